"""Clinics and appointments: where and when a visit is booked.

A site has one clinic: the days it opens, its hours, its slot length and how many visits of each
type it can see in a day. Clinic set-up is configuration, changed in place and audited. An
appointment is a record like any other and is never changed: rebooking adds a new appointment
that names the one it replaces (``replaces_id``) and why, so the replaced one stays, superseded.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime
from scheduler.models.recorded import Recorded


class Clinic(SQLModel, table=True):
    """The clinic of a site (one per site). ``open_days``: weekday names, e.g. "mon,tue,wed"."""

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", unique=True)
    open_days: str = Field(max_length=40)
    opens_at: time
    closes_at: time
    slot_minutes: int
    default_capacity: int
    """Visits a day of any type the clinic has no capacity row for."""
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    updated_by: str = Field(max_length=64)


class ClinicCapacity(SQLModel, table=True):
    """How many visits of ``visit_type`` ("C{cycle}D1", "EOT") the clinic sees in one day."""

    __table_args__ = (UniqueConstraint("site_id", "visit_type"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id")
    visit_type: str = Field(max_length=32)
    per_day: int


class Appointment(Recorded, table=True):
    """A visit booked for ``day`` at ``start`` (local to the site), at the site's clinic."""

    __table_args__ = (
        # Each day's bookings of a site: capacity checks, the day's list, the site feed.
        Index("ix_appointment_site_day", "site_id", "day"),
        Index("ix_appointment_subject_visit", "subject_id", "visit_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id")
    site_id: int = Field(foreign_key="site.id")
    visit_code: str = Field(max_length=32)
    visit_type: str = Field(max_length=32)
    day: date
    start: time
    minutes: int
    replaces_id: int | None = Field(default=None, foreign_key="appointment.id", unique=True)
    """The appointment this one supersedes: each is superseded at most once."""
    reason: str = Field(default="", max_length=500)
    """Why it was booked again (empty for a first booking)."""
