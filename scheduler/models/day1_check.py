from __future__ import annotations

from datetime import date

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class Day1Check(Recorded, table=True):
    """Whether the protocol's day-1 criteria were met before cycle ``cycle`` starts, as assessed
    on ``assessed_on`` (the subject's local date). The plan reads a cycle's checks by that date:
    a "not met" holds the cycle back until a later "met". Of two checks of one cycle on one day,
    the later record counts; a change is a new record with a reason."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    cycle: int
    assessed_on: date
    met: bool
    reason: str = Field(default="", max_length=500)
