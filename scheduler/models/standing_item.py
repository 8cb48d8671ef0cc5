"""Worklist items that do not depend on the day the list is drawn for: a proposal from the rule
table (cycle delayed beyond the limit) or a drug-accountability discrepancy awaiting review.
Derived, like ``ScheduledVisit``; only subjects with something to say have rows."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class StandingItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    kind: str = Field(max_length=32)
    what: str = Field(max_length=200)
    detail: str = Field(max_length=1000)
