from __future__ import annotations

from datetime import date

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class Hold(Recorded, table=True):
    """Dosing interrupted from ``start_date`` (for toxicity, or unmet day-1 criteria)."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    start_date: date
    reason: str = Field(max_length=500)
    adverse_event_id: int | None = Field(default=None, foreign_key="adverseevent.id")


class Resumption(Recorded, table=True):
    """Dosing restarts on ``resume_date``, at ``dose_mg`` when the investigator reduced it."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    resume_date: date
    dose_mg: float | None = None
    reason: str = Field(default="", max_length=500)
