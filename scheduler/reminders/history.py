"""A subject's reminders as the nurse sees them: which were sent, when and by which channel,
which are still to go, and which failed or came too late to send. Times are in the site's zone
(the nurse's clock), never UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from scheduler.kernel.subject_state import get_subject
from scheduler.models import Reminder, Site

SHOWN = 30
"""The latest reminders by due time: a subject has two a day on treatment."""


@dataclass(frozen=True)
class SentReminder:
    kind: str
    item_key: str
    due: datetime
    """Local to the site."""
    status: str
    sent: datetime | None
    """Local to the site; set once the channel accepted the message."""
    channel: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class ReminderHistory:
    zone: str
    reminders: list[SentReminder]


def reminder_history(session: Session, code: str, *, limit: int = SHOWN) -> ReminderHistory:
    """The subject's latest ``limit`` reminders, latest due first (one indexed query)."""
    subject = get_subject(session, code)
    site = session.get(Site, subject.site_id)
    zone_name = site.time_zone if site is not None else subject.time_zone
    zone = ZoneInfo(zone_name)
    rows = session.exec(
        select(Reminder)
        .where(Reminder.subject_id == subject.id)
        .order_by(col(Reminder.due_at).desc(), col(Reminder.id).desc())
        .limit(limit)
    ).all()
    return ReminderHistory(
        zone_name,
        [
            SentReminder(
                kind=r.kind,
                item_key=r.item_key,
                due=r.due_at.astimezone(zone),
                status=r.status,
                sent=r.sent_at.astimezone(zone) if r.sent_at else None,
                channel=r.channel,
                attempts=r.attempts,
                last_error=r.last_error,
            )
            for r in rows
        ],
    )
