"""Visits as the plans place them, stored so the worklist is an indexed query.

Derived rows, never edited by hand: ``scheduler.services.worklist_rows`` rewrites a subject's
rows in the transaction that changed the subject's records (and the daily job rewrites those
whose dates move with time). Cancelled visits have no row.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class ScheduledVisit(SQLModel, table=True):
    __table_args__ = (
        Index("ix_scheduledvisit_site_done_window_start", "site_id", "done", "window_start"),
        Index("ix_scheduledvisit_site_target", "site_id", "target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    visit_code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    cycle: int | None = None
    day1_cycle: int | None = None
    """The cycle this visit is day 1 of (its day-1 criteria must be confirmed), else None."""
    target: date
    window_start: date
    window_end: date
    done: bool
    tentative: bool
    """Laid out behind an open hold: its date moves until the hold ends."""
    dose_mg: float
    """The dose level the visit falls under (the cycle's, else the subject's current one)."""
