"""The reminder outbox and the patients' reminder preferences.

A reminder exists only as a row here, never only as a scheduler job: the row is created in the
transaction that changed the plan, claimed by one worker under a lease, and marked sent only
after the channel accepted it. The idempotency key travels with the message (Message-ID,
Idempotency-Key header), so a receiver can drop the one duplicate a crash can cause.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime

ReminderKind = Literal["dose", "visit", "nurse_digest", "pharmacy_digest"]
ReminderStatus = Literal["pending", "claimed", "sent", "failed", "cancelled", "expired"]
REMINDER_KINDS: tuple[str, ...] = ("dose", "visit", "nurse_digest", "pharmacy_digest")
REMINDER_STATUSES: tuple[str, ...] = (
    "pending",
    "claimed",
    "sent",
    "failed",
    "cancelled",
    "expired",
)


class Reminder(SQLModel, table=True):
    """One message to send at ``due_at`` (UTC), useless after ``expires_at``."""

    __table_args__ = (
        Index("ix_reminder_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_reminder_status_claimed_until", "status", "claimed_until"),
        Index("ix_reminder_subject_id_status", "subject_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    subject_id: int | None = Field(default=None, foreign_key="subject.id")
    """None for staff digests."""
    site_id: int | None = Field(default=None, foreign_key="site.id")
    item_key: str = Field(max_length=32)
    """The plan item ("C2D5", "C2D1") or, for a digest, the site code."""
    due_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    """After this instant the message is no use (downtime grace): it is marked expired."""
    channel: str = Field(max_length=16)
    address: str = Field(max_length=320)
    idempotency_key: str = Field(max_length=200, unique=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    title: str = Field(max_length=200)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class ReminderPreference(SQLModel, table=True):
    """A patient's choice: reminders or not, by which channel, to which address.

    Changed only through the reminders service, which audits every change.
    """

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", unique=True)
    opted_in: bool
    channel: str = Field(max_length=16)
    address: str = Field(max_length=320)
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    updated_by: str = Field(max_length=64)
