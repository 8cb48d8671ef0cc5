"""One row per subject: what the worklist needs about a subject without building its plan.

Derived, like ``ScheduledVisit``. ``hold_start``/``hold_end`` come from the hold records, not
from projections, so "days on hold" stays right as time passes without a refresh.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class SubjectStatus(SQLModel, table=True):
    __table_args__ = (
        Index("ix_subjectstatus_site_hold_start", "site_id", "hold_start"),
        Index("ix_subjectstatus_site_first_unrecorded", "site_id", "first_unrecorded_dose"),
    )

    subject_id: int = Field(foreign_key="subject.id", primary_key=True)
    site_id: int = Field(foreign_key="site.id")
    code: str = Field(max_length=32)
    status: str = Field(max_length=32)
    dose_mg: float
    hold_start: date | None = None
    """Start of the latest hold (open, or closed by ``hold_end``); None if never held."""
    hold_end: date | None = None
    hold_reason: str = Field(default="", max_length=500)
    max_hold_days: int
    first_unrecorded_dose: date | None = None
    """The earliest planned dose slot without a record (taken or missed)."""
    refreshed_on: date
    """The subject's local date when the rows were last derived."""
    rows_digest: str = Field(default="", max_length=64)
    """SHA-256 of the subject's other derived rows (visits, missed doses, standing items) when
    they were written: a change that leaves them as they are (most doses) rewrites this row
    alone."""
