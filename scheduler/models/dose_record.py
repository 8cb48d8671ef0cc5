from __future__ import annotations

from datetime import date, time

from sqlalchemy import Index, text
from sqlmodel import Field

from scheduler.models.recorded import Recorded


class DoseRecord(Recorded, table=True):
    """A dose slot recorded as taken or missed. A later record of the same slot corrects an
    earlier one (it must give a reason); nothing is updated in place. ``corrects_id`` names the
    record of the slot stored just before (voided or not), so the database can refuse a second
    uncorrected first record or two corrections of one record (``models/constraints.py``)."""

    __table_args__ = (
        Index(
            "uq_doserecord_first_entry",
            "subject_id",
            "dose_date",
            "slot",
            unique=True,
            postgresql_where=text("corrects_id IS NULL"),
            sqlite_where=text("corrects_id IS NULL"),
        ),
        Index("uq_doserecord_corrects", "corrects_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    dose_date: date = Field(index=True)
    slot: int = 1
    taken: bool
    taken_at: time | None = None
    reason: str = Field(default="", max_length=500)
    corrects_id: int | None = Field(default=None, foreign_key="doserecord.id")
