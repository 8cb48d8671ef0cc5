"""CSV in the shape of CDISC SDTM LB (laboratory results), next to EX, DA and SV: one row per
current lab result, as reported (LBORRES, LBORRESU, LBORNRLO/HI) and in the grading unit
(LBSTRESN, LBSTRESU, LBSTNRLO/HI), with the CTCAE v5.0 grade (LBTOXGR) and the baseline flag
(LBBLFL). Vital signs (blood pressure, QTc) belong to VS and EG and are left out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlmodel import Session

from scheduler.kernel.subject_state import all_subjects, states
from scheduler.labs.history import SubjectLabs, subject_labs
from scheduler.pharmacy.sdtm import usubjid

LB = "lb"
LB_COLUMNS = (
    "STUDYID", "DOMAIN", "USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBORRES", "LBORRESU",
    "LBORNRLO", "LBORNRHI", "LBSTRESC", "LBSTRESN", "LBSTRESU", "LBSTNRLO", "LBSTNRHI",
    "LBTOXGR", "LBBLFL", "LBDTC",
)  # fmt: skip


def _number(value: float | None) -> str:
    return "" if value is None else f"{round(value, 6):g}"


def lb_rows(study_id: str, subject: str, labs: SubjectLabs) -> Iterator[dict[str, str]]:
    sequence = 0
    for result in labs.results:
        if result.test.vital_sign:
            continue
        sequence += 1
        row = result.row
        yield {
            "STUDYID": study_id,
            "DOMAIN": "LB",
            "USUBJID": subject,
            "LBSEQ": str(sequence),
            "LBTESTCD": result.test.sdtm,
            "LBTEST": result.test.name,
            "LBORRES": row.reported,
            "LBORRESU": row.unit,
            "LBORNRLO": _number(row.lln),
            "LBORNRHI": _number(row.uln),
            "LBSTRESC": _number(row.value_std),
            "LBSTRESN": _number(row.value_std),
            "LBSTRESU": result.test.unit,
            "LBSTNRLO": _number(row.lln_std),
            "LBSTNRHI": _number(row.uln_std),
            "LBTOXGR": "" if result.grade is None else str(result.grade),
            "LBBLFL": "Y" if result.is_baseline else "",
            "LBDTC": row.taken_on.isoformat(),
        }


def lb_csv(session: Session, now: datetime, site_code: str | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LB_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for state in states(session, all_subjects(session, site_code), now):
        plan = state.plan()
        labs = subject_labs(session, state)
        writer.writerows(lb_rows(plan.protocol.study_id, usubjid(plan, state.site.code), labs))
    return buffer.getvalue()
