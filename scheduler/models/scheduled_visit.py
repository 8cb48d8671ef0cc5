"""Visits as the plans place them, stored so the worklist is an indexed query.

Derived rows, never edited by hand: ``scheduler.worklist.rows`` rewrites a subject's
rows in the transaction that changed the subject's records (and the daily job rewrites those
whose dates move with time). Cancelled visits have no row.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

OPEN = "done = false AND tentative = false"
"""The visits a worklist can list: not done, not laid out behind an open hold. Both indexes are
partial on it (done visits, the bulk of the table in time, are not in them), and carry every
column their query reads, so the list is read from the index alone."""
OPEN_SQLITE = "done = 0 AND tentative = 0"
"""The same on SQLite, written as SQLAlchemy writes the worklist's conditions there, since
SQLite uses a partial index only when the query repeats its terms."""


def open_index(name: str, *columns: str, extra: str = "") -> Index:
    return Index(
        name,
        *columns,
        sqlite_where=text(OPEN_SQLITE + extra),
        postgresql_where=text(OPEN + extra),
    )


OPEN_COLUMNS = (
    "subject_id",
    "target",
    "window_end",
    "dose_mg",
    "visit_code",
    "name",
    "done",
    "tentative",
)
RANKED_COLUMNS = (
    "code",
    "visit_code",
    "window_start",
    "target",
    "dose_mg",
    "name",
    "done",
    "tentative",
)
"""After the site and the window's end: the order the page of every site ranks each urgency
group in (window end, subject code, visit code), then what it shows of the first rows, so each
group's first rows are the head of an index range."""
CODE_TEXT = String(32).with_variant(String(32, collation="C"), "postgresql")
"""A subject's or a visit's code, ordered by code point as Python orders it: SQLite's default
collation does, PostgreSQL's database collation need not, and an index serves an ORDER BY
only in its own collation."""
DAY1_COLUMNS = (
    "subject_id",
    "day1_cycle",
    "window_start",
    "window_end",
    "dose_mg",
    "visit_code",
    "done",
    "tentative",
)


class ScheduledVisit(SQLModel, table=True):
    __table_args__ = (
        # Due, in window, overdue: open visits whose window has opened by the day.
        open_index("ix_scheduledvisit_open", "site_id", "window_start", *OPEN_COLUMNS),
        # The page of every site: each site's first open visits by window end, then code.
        open_index("ix_scheduledvisit_open_ranked", "site_id", "window_end", *RANKED_COLUMNS),
        # Day-1 checks: open cycle day 1 visits in the next days.
        open_index(
            "ix_scheduledvisit_day1_open",
            "site_id",
            "target",
            *DAY1_COLUMNS,
            extra=" AND day1_cycle IS NOT NULL",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    code: str = Field(sa_type=CODE_TEXT, nullable=False)
    """The subject's code (as on its status row): the page of every site ranks visits by it,
    from an index, with no join to the subjects."""
    visit_code: str = Field(sa_type=CODE_TEXT, nullable=False)
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
