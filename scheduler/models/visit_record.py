from __future__ import annotations

from datetime import date

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class VisitRecord(Recorded, table=True):
    """A visit done on ``actual_date``. Outside its window it carries the deviation reason."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    code: str = Field(max_length=24)
    actual_date: date
    deviation: str = Field(default="", max_length=500)
