"""The nurse's review of what a patient reported, at the next visit: confirming a report makes
it a verified record (a dose record, or a home blood pressure result) through the same services
a typed record goes through; correcting one records what the nurse established instead, with a
reason. Either way the report itself stays as the patient sent it, and the review names the
record it created (one review per report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from sqlmodel import Session, col, select

from scheduler.errors import Conflict, InputError, NotFound
from scheduler.kernel.subject_state import get_subject
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text, parse_time
from scheduler.labs.results import record_result
from scheduler.models import DoseRecord, LabResult, PatientReport, PatientReview
from scheduler.patients.reports import BLOOD_PRESSURE
from scheduler.subjects.doses import record_dose

CONFIRMED = "confirmed"
CORRECTED = "corrected"
_ACTIONS = {CONFIRMED: "patient_report.confirm", CORRECTED: "patient_report.correct"}


@dataclass(frozen=True)
class Correction:
    """What the nurse established instead of the report: for a dose, taken (at a time) or not;
    for a blood pressure, the reading."""

    taken: bool | None = None
    at: str | time | None = None
    reading: str | None = None


def _report(session: Session, code: str, report_id: int) -> PatientReport:
    subject = get_subject(session, code)
    row = session.get(PatientReport, report_id)
    if row is None or row.subject_id != subject.id:
        raise NotFound("report", f"{code} has no patient report {report_id}")
    reviewed = session.exec(
        select(PatientReview.id).where(PatientReview.report_id == report_id)
    ).first()
    if reviewed is not None:
        raise Conflict("report", f"patient report {report_id} was already reviewed")
    return row


def _verified(
    unit: Unit, code: str, row: PatientReport, correction: Correction | None, reason: str
) -> tuple[int | None, int | None]:
    """(dose record id, lab result id) of the verified record made from the report."""
    note = reason or f"confirmed from patient report {row.id}"
    if row.kind == BLOOD_PRESSURE:
        value = f"{row.systolic}/{row.diastolic}"
        if correction is not None:
            if not correction.reading:
                raise InputError("reading", "give the reading established (systolic/diastolic)")
            value = correction.reading
        result = record_result(
            unit,
            code,
            test="BP",
            value=value,
            unit_text="mmHg",
            on=row.report_date,
            source="home",
            reason=_lab_reason(unit, row, note),
        )
        return None, result.rows[0].id
    taken, at = bool(row.taken), row.taken_at
    if correction is not None:
        if correction.taken is None:
            raise InputError("taken", "say whether the dose was taken")
        taken = correction.taken
        at = parse_time("at", correction.at) if correction.at and taken else None
    recorded = record_dose(
        unit,
        code,
        on=row.report_date,
        slot=row.slot,
        taken=taken,
        at=at,
        reason=_dose_reason(unit, row, note),
    )
    return recorded.record.id, None


def _dose_reason(unit: Unit, row: PatientReport, note: str) -> str:
    """A dose already recorded by staff is corrected by the review, which needs its reason;
    a first record needs none."""
    recorded = unit.session.exec(
        select(DoseRecord.id).where(
            DoseRecord.subject_id == row.subject_id,
            DoseRecord.dose_date == row.report_date,
            DoseRecord.slot == row.slot,
        )
    ).first()
    return note if recorded is not None else ""


def _lab_reason(unit: Unit, row: PatientReport, note: str) -> str:
    """Likewise for a home reading the team already recorded for that day."""
    recorded = unit.session.exec(
        select(LabResult.id).where(
            LabResult.subject_id == row.subject_id,
            LabResult.taken_on == row.report_date,
            LabResult.source == "home",
            col(LabResult.test).in_(("SBP", "DBP")),
        )
    ).first()
    return note if recorded is not None else ""


def review_report(
    unit: Unit,
    code: str,
    report_id: int,
    *,
    correction: Correction | None = None,
    reason: str = "",
) -> PatientReview:
    """Confirm the report (``correction`` None) or correct it (a reason is required)."""
    reason = check_text("reason", reason, required=correction is not None)
    row = _report(unit.session, code, report_id)
    dose_id, lab_id = _verified(unit, code, row, correction, reason)
    review = PatientReview(
        report_id=row.id or 0,
        subject_id=row.subject_id,
        outcome=CONFIRMED if correction is None else CORRECTED,
        dose_record_id=dose_id,
        lab_result_id=lab_id,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(review)
    unit.session.flush()
    unit.audit(
        _ACTIONS[review.outcome],
        entity="patientreview",
        entity_id=review.id,
        subject_id=row.subject_id,
        old={"report": row.id, "reported_by": row.recorded_by},
        new=review_json(review),
        reason=reason,
    )
    return review


def review_json(review: PatientReview) -> dict[str, Any]:
    return {
        "id": review.id,
        "report": review.report_id,
        "outcome": review.outcome,
        "dose_record": review.dose_record_id,
        "lab_result": review.lab_result_id,
        "reason": review.reason,
        "recorded_by": review.recorded_by,
    }


def reviews_of(session: Session, subject_id: int) -> dict[int, PatientReview]:
    """The reviews of a subject's reports, by report id."""
    rows = session.exec(select(PatientReview).where(PatientReview.subject_id == subject_id))
    return {r.report_id: r for r in rows}
