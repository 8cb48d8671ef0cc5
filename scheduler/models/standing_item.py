"""Worklist items that stand for a stretch of days rather than one: a proposal from the rule
table (cycle delayed beyond the limit, listed while that cycle is under way) or a
drug-accountability discrepancy awaiting review (listed until reviewed). Derived, like
``ScheduledVisit``; only subjects with something to say have rows."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel


class StandingItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    kind: str = Field(max_length=32)
    what: str = Field(max_length=200)
    detail: str = Field(max_length=1000)
    shown_from: date | None = None
    """First day the item is listed (None: from the start)."""
    shown_until: date | None = None
    """Last day the item is listed (None: until the records change). A delay proposal lapses
    when its cycle ends, without any record changing, so the row carries that day."""
