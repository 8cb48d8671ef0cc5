from __future__ import annotations

from datetime import date, time

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class DoseRecord(Recorded, table=True):
    """A dose slot recorded as taken or missed. A later record of the same slot corrects an
    earlier one (it must give a reason); nothing is updated in place."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    dose_date: date = Field(index=True)
    slot: int = 1
    taken: bool
    taken_at: time | None = None
    reason: str = Field(default="", max_length=500)
