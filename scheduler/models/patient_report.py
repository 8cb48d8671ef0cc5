"""What patients report themselves through their private page, kept apart from what staff
verified: a report is never a dose record or a lab result until a nurse confirms it.

- ``PatientLink``: a subject's private page link; only the SHA-256 of its token is kept.
- ``PatientReport``: one dose ("taken at ..." / "not taken") or one home blood pressure, as
  the patient sent it; the first report of a dose or of a day's reading is the one kept.
- ``PatientReview``: the nurse's confirmation or correction of a report at the next visit,
  naming the verified record it created.
- ``PatientWorkItem``: worklist items derived from the reports (projection
  ``scheduler.patients.work_items``).
- ``PatientRequest``: recent requests per link, for the per-token throttle.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime

REPORT_KINDS = ("dose", "bp")
REVIEW_OUTCOMES = ("confirmed", "corrected")


class PatientLink(SQLModel, table=True):
    """A private page link of one subject. Issuing again revokes the live one (rotation).
    ``alert_unreported`` is the subject's opt-in to be listed when a dosing day passes with
    no report; a rotation carries it over."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    alert_unreported: bool = False
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    created_by: str = Field(max_length=64)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    revoked_by: str = Field(default="", max_length=64)


class PatientReport(SQLModel, table=True):
    """One report as the patient sent it. ``recorded_by`` names the link ("patient link 3"),
    never a staff account. A dose report is unique per slot and a blood pressure per day: the
    database keeps the first and refuses the second."""

    __table_args__ = (
        Index("uq_patientreport_item", "subject_id", "kind", "report_date", "slot", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    link_id: int = Field(foreign_key="patientlink.id")
    kind: str = Field(max_length=8)
    report_date: date
    slot: int = 1
    """The administration of the day for a dose report; 1 for a blood pressure."""
    taken: bool | None = None
    taken_at: time | None = None
    systolic: int | None = None
    diastolic: int | None = None
    via: str = Field(max_length=16)
    """``page`` or ``one_tap`` (the link of a dose reminder)."""
    recorded_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    recorded_by: str = Field(max_length=64)


class PatientReview(SQLModel, table=True):
    """A nurse's confirmation or correction of one report (one review per report). Confirming
    or correcting a dose creates the verified ``DoseRecord``; a blood pressure, the home
    ``LabResult``."""

    __table_args__ = (Index("uq_patientreview_report", "report_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="patientreport.id")
    subject_id: int = Field(foreign_key="subject.id", index=True)
    outcome: str = Field(max_length=16)
    dose_record_id: int | None = Field(default=None, foreign_key="doserecord.id")
    lab_result_id: int | None = Field(default=None, foreign_key="labresult.id")
    reason: str = Field(default="", max_length=500)
    recorded_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    recorded_by: str = Field(max_length=64)


class PatientWorkItem(SQLModel, table=True):
    """A worklist line from the patient's reports, listed from ``listed_from`` (an instant:
    "no report" waits for the end of the dosing day) while its day is between ``shown_from``
    and ``shown_until``."""

    __table_args__ = (Index("ix_patientworkitem_site_shown", "site_id", "shown_from"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    kind: str = Field(max_length=32)
    what: str = Field(max_length=200)
    detail: str = Field(max_length=1000)
    shown_from: date
    shown_until: date | None = None
    listed_from: datetime = Field(sa_type=UtcDateTime, nullable=False)


class PatientRequest(SQLModel, table=True):
    """A request to the patient page or a one-tap link, by the hash of its token: counted over
    a short window to refuse floods (``scheduler.patients.throttle``), then forgotten."""

    __table_args__ = (
        Index("ix_patientrequest_key_at", "key", "at"),
        Index("ix_patientrequest_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)
