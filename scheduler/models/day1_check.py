from __future__ import annotations

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class Day1Check(Recorded, table=True):
    """Whether the protocol's day-1 criteria were met before cycle ``cycle`` starts. The latest
    record for a subject and cycle counts; a change is a new record with a reason."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    cycle: int
    met: bool
    reason: str = Field(default="", max_length=500)
