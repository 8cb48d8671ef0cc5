from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime


class Subject(SQLModel, table=True):
    """A trial subject and the anchors their plan hangs on.

    Anchors (C1D1, surgery date, zone, dose time) may be corrected; every change is audited
    with the old value, the new value and the reason.
    """

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    protocol_version_id: int = Field(foreign_key="protocolversion.id")
    c1d1: date
    surgery_date: date | None = None
    """None for a protocol without visits counted from the surgery."""
    time_zone: str = Field(max_length=64)
    dose_time: time
    enrolled_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    enrolled_by: str = Field(max_length=64)
    language: str = Field(default="en", max_length=16)
    """What the patient reads (feed, reminders, handout): chosen at enrolment, by default the
    site's; a change is audited (``subject.change_language``)."""
    revision: int = 0
    """Bumped by every unit of work that changes this subject's records (``kernel.projections``):
    what was derived from an older revision (a feed's body) is out of date."""
