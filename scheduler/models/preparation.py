from __future__ import annotations

from datetime import date

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class Preparation(Recorded, table=True):
    """What the pharmacy prepared for a cycle (``action`` "prepared" or "relabelled"), or that it
    put the capsules back into stock ("returned"). The latest record for a subject and cycle
    counts; the day 1, strength and count are kept to notice a plan that changed afterwards."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    cycle: int
    action: str = Field(max_length=16)
    day1: date
    strength_mg: float
    capsule_count: int
    reason: str = Field(default="", max_length=500)


class DispensingNotNeeded(Recorded, table=True):
    """Capsules that were due to be dispensed (at a cycle's day 1, or for a dose changed in the
    middle of a cycle) will not be: someone said why. Without it, a day 1 that passed with
    nothing prepared or dispensed stays on the preparation list as overdue."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    cycle: int
    needed_on: date
    """The day the capsules were needed by: the cycle's day 1, or the first dose at a new level."""
    reason: str = Field(max_length=500)
