"""Patient-reported and staff-verified dose counts of one subject, for the accountability
pages beside the capsule counts (``scheduler.core.accountability.report_counts``)."""

from __future__ import annotations

from sqlmodel import Session, select

from scheduler import core
from scheduler.core.accountability import ReportCounts, ReportedDose, report_counts
from scheduler.models import PatientReport, PatientReview
from scheduler.patients.reports import DOSE


def reported_doses(session: Session, subject_id: int) -> list[ReportedDose]:
    reviewed = set(
        session.exec(select(PatientReview.report_id).where(PatientReview.subject_id == subject_id))
    )
    rows = session.exec(
        select(PatientReport).where(
            PatientReport.subject_id == subject_id, PatientReport.kind == DOSE
        )
    )
    return [
        ReportedDose(on=r.report_date, slot=r.slot, taken=bool(r.taken), reviewed=r.id in reviewed)
        for r in rows
    ]


def dose_report_counts(session: Session, plan: core.Plan, subject_id: int) -> ReportCounts:
    return report_counts(plan, reported_doses(session, subject_id))
