"""CSV in the shape of CDISC SDTM domains EX (exposure), DA (drug accountability) and SV
(subject visits), for the data manager. Dates are ISO 8601 calendar dates; USUBJID is
STUDYID-SITE-SUBJECT so that it is unique across the study; STUDYID comes from the protocol."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from sqlmodel import Session

from scheduler import core
from scheduler.core.accountability import starting_dose
from scheduler.core.outputs import TAKEN
from scheduler.errors import InputError
from scheduler.kernel.subject_state import all_subjects, states
from scheduler.pharmacy.accountability import Records, load_records

DOMAINS = ("ex", "da", "sv")
_FREQUENCY = {1: "QD", 2: "BID", 3: "TID", 4: "QID"}
_ROUTE = {"PO": "ORAL", "IV": "INTRAVENOUS", "SC": "SUBCUTANEOUS"}
OUTSIDE_WINDOW = "DOSE TAKEN OUTSIDE PROTOCOL TIME WINDOW"
"""EXADJ of a day with a dose taken past the late-dose limit: a protocol deviation, exported as
a row of its own so the data manager sees which day it was."""

EX_COLUMNS = (
    "STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXDOSFRM",
    "EXDOSFRQ", "EXROUTE", "EXSTDTC", "EXENDTC", "EXADJ",
)  # fmt: skip
DA_COLUMNS = (
    "STUDYID", "DOMAIN", "USUBJID", "DASEQ", "DAREFID", "DATESTCD", "DATEST", "DAORRES",
    "DAORRESU", "DASTRESC", "DASTRESN", "DASTRESU", "VISITNUM", "DADTC",
)  # fmt: skip
SV_COLUMNS = (
    "STUDYID", "DOMAIN", "USUBJID", "VISITNUM", "VISIT", "VISITDY", "SVSTDTC", "SVENDTC",
    "SVUPDES",
)  # fmt: skip


def usubjid(plan: core.Plan, site: str) -> str:
    return f"{plan.protocol.study_id}-{site}-{plan.subject}"


def _number(value: float) -> str:
    return f"{value:g}"


def ex_rows(plan: core.Plan, site: str) -> Iterator[dict[str, str]]:
    """One row per run of consecutive dosing days at one dose: a rest period, a hold, a missed
    day or a dose change ends a run. EXADJ says why a run's dose differs from the one before;
    a day with a dose taken outside the protocol's time window is a run of its own, flagged
    ``OUTSIDE_WINDOW`` in EXADJ (the dose was taken, so it is exposure, but a deviation)."""
    protocol = plan.protocol
    per_day = protocol.schedule.administrations_per_day
    doses = tuple(plan.doses())
    taken = sorted({(s.date, s.dose_mg) for s in doses if s.status in TAKEN})
    outside = {s.date for s in doses if s.status == "taken_outside_window"}
    runs: list[list[tuple[date, float]]] = []
    for day, dose in taken:
        last = runs[-1][-1] if runs else None
        if (
            last
            and last[1] == dose
            and day - last[0] == timedelta(days=1)
            and day not in outside
            and last[0] not in outside
        ):
            runs[-1].append((day, dose))
        else:
            runs.append([(day, dose)])
    previous = starting_dose(protocol)
    for seq, run in enumerate(runs, start=1):
        dose = run[0][1]
        start, end = run[0][0], run[-1][0]
        if dose < previous:
            adjustment = "DOSE REDUCED"
        elif seq > 1 and _after_hold(plan, runs[seq - 2][-1][0], start):
            adjustment = "DOSE RESUMED AFTER INTERRUPTION"
        else:
            adjustment = ""
        if start in outside:
            adjustment = f"{adjustment}; {OUTSIDE_WINDOW}" if adjustment else OUTSIDE_WINDOW
        previous = dose
        yield {
            "STUDYID": protocol.study_id,
            "DOMAIN": "EX",
            "USUBJID": usubjid(plan, site),
            "EXSEQ": str(seq),
            "EXTRT": protocol.drug.name.upper(),
            "EXDOSE": _number(dose),
            "EXDOSU": protocol.drug.unit,
            "EXDOSFRM": protocol.drug.form.upper(),
            "EXDOSFRQ": _FREQUENCY.get(per_day, f"{per_day} TIMES PER DAY"),
            "EXROUTE": _ROUTE.get(protocol.drug.route.upper(), protocol.drug.route.upper()),
            "EXSTDTC": start.isoformat(),
            "EXENDTC": end.isoformat(),
            "EXADJ": adjustment,
        }


def _after_hold(plan: core.Plan, last: date, start: date) -> bool:
    return any(last < h.start < start for h in plan.holds)


def da_rows(plan: core.Plan, site: str, records: Records) -> Iterator[dict[str, str]]:
    """Two rows per cycle and strength: the amount dispensed, and the amount returned once
    counted. Only the latest (corrected) figure is exported."""
    seq = 0
    for cycle in plan.cycles:
        returned = records.returned(cycle.number)
        for strength, out in sorted(records.dispensed(cycle.number).items()):
            back = returned.get(strength)
            amounts = [("DISPAMT", "Dispensed Amount", out.capsule_count, out.dispensed_on)]
            if back is not None:
                amounts.append(("RETAMT", "Returned Amount", back.capsule_count, back.returned_on))
            for code, name, count, day in amounts:
                seq += 1
                yield {
                    "STUDYID": plan.protocol.study_id,
                    "DOMAIN": "DA",
                    "USUBJID": usubjid(plan, site),
                    "DASEQ": str(seq),
                    "DAREFID": f"{out.lot} {strength:g} MG",
                    "DATESTCD": code,
                    "DATEST": name,
                    "DAORRES": str(count),
                    "DAORRESU": plan.protocol.drug.form.upper(),
                    "DASTRESC": str(count),
                    "DASTRESN": str(count),
                    "DASTRESU": plan.protocol.drug.form.upper(),
                    "VISITNUM": str(cycle.number),
                    "DADTC": day.isoformat(),
                }


def sv_rows(plan: core.Plan, site: str) -> Iterator[dict[str, str]]:
    """Visits that took place, numbered in plan order; VISITDY is the planned study day
    (day 1 = cycle 1 day 1, no day 0, as the SDTM IG counts)."""
    c1d1 = plan.anchors.c1d1
    for number, visit in enumerate(plan.visits, start=1):
        if visit.actual is None:
            continue
        offset = (visit.target - c1d1).days
        yield {
            "STUDYID": plan.protocol.study_id,
            "DOMAIN": "SV",
            "USUBJID": usubjid(plan, site),
            "VISITNUM": str(number),
            "VISIT": visit.name.upper(),
            "VISITDY": str(offset + 1 if offset >= 0 else offset),
            "SVSTDTC": visit.actual.isoformat(),
            "SVENDTC": visit.actual.isoformat(),
            "SVUPDES": visit.deviation,
        }


def export_csv(session: Session, now: datetime, domain: str, site_code: str | None = None) -> str:
    domain = domain.lower()
    if domain not in DOMAINS:
        raise InputError("domain", f"{domain!r} is not one of {', '.join(DOMAINS)}")
    subject_states = states(session, all_subjects(session, site_code), now)
    records = load_records(session, [s.subject.id or 0 for s in subject_states])
    columns = {"ex": EX_COLUMNS, "da": DA_COLUMNS, "sv": SV_COLUMNS}[domain]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for state in subject_states:
        plan, site = state.plan(), state.site.code
        if domain == "ex":
            writer.writerows(ex_rows(plan, site))
        elif domain == "da":
            writer.writerows(da_rows(plan, site, records[state.subject.id or 0]))
        else:
            writer.writerows(sv_rows(plan, site))
    return buffer.getvalue()
