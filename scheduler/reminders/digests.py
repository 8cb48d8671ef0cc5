"""Staff digests: the nurses' morning list of who is due, the pharmacy's list of what to prepare.

A digest is an outbox row like any reminder. Its idempotency key is site + day + kind +
address, and rows are inserted with "on conflict do nothing", so however many schedulers build
the same digest, it is queued, and sent, once. Bodies carry subject codes, dates and what to do,
never clinical detail (no adverse event terms, no hold reasons).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from scheduler.clock import local_today
from scheduler.core.times import local_instant
from scheduler.models import Reminder, Site
from scheduler.pharmacy.preparation_list import TO_PREPARE, preparation_list
from scheduler.reminders.outbox import idempotency_key, insert_ignoring_duplicates
from scheduler.settings import Settings
from scheduler.worklist.items import worklist

DIGEST_KINDS = ("nurse_digest", "pharmacy_digest")
_WORK_LABELS = {
    "visit_due": "visit due",
    "visit_overdue": "visit overdue",
    "unrecorded_doses": "doses to record",
    "on_hold": "on hold: review",
    "proposal": "decision needed",
    "drug_discrepancy": "drug return to review",
    "awaiting_signature": "awaiting signature",
}


def nurse_digest(session: Session, site: Site, day: date, now: datetime) -> str:
    items = worklist(session, now, site_code=site.code, on=day)
    lines = [f"{site.code} {day}: who is due"]
    for item in sorted(items, key=lambda i: (i.subject, i.kind, i.what)):
        label = _WORK_LABELS.get(item.kind, item.kind.replace("_", " "))
        lines.append(f"- {item.subject}: {label} ({item.what})")
    if not items:
        lines.append("- nobody is due")
    return "\n".join(lines)


def pharmacy_digest(
    session: Session, site: Site, day: date, now: datetime, settings: Settings
) -> str:
    listing = preparation_list(
        session, now, site_code=site.code, start=day, holidays=settings.site_holidays
    )
    lines = [f"{site.code} {day}: to prepare"]
    rows = [r for r in listing.rows if r.status == TO_PREPARE]
    for row in rows:
        capsules = ", ".join(f"{c.count} x {c.strength_mg:g} mg" for c in row.capsules)
        when = f"new dose from {row.prepare_by}" if row.unscheduled else f"day 1 {row.day1}"
        lines.append(
            f"- {row.subject} cycle {row.cycle} ({when}): {capsules}, prepare by {row.prepare_by}"
        )
    if not rows:
        lines.append("- nothing to prepare")
    return "\n".join(lines)


def _addresses(settings: Settings, kind: str, site: Site) -> list[str]:
    table = settings.nurse_digest_to if kind == "nurse_digest" else settings.pharmacy_digest_to
    return table.get(site.code, [])


def queue_digests(session: Session, settings: Settings, now: datetime) -> int:
    """Queue the digests of each site whose local digest time has come and whose grace has not
    passed (yesterday's too: a grace may run past local midnight); returns how many rows were
    new. Safe to call any number of times, anywhere: it is called every poll."""
    grace = timedelta(hours=settings.digest_grace_hours)
    queued = 0
    for site in session.exec(select(Site).order_by(col(Site.code))):
        today = local_today(now, site.time_zone)
        for day in (today - timedelta(days=1), today):
            due = local_instant(day, settings.digest_time, ZoneInfo(site.time_zone))
            if due <= now < due + grace:
                queued += _queue_site_day(session, settings, site, day, due, now)
    return queued


def _queue_site_day(
    session: Session, settings: Settings, site: Site, day: date, due: datetime, now: datetime
) -> int:
    grace = timedelta(hours=settings.digest_grace_hours)
    queued = 0
    for kind in DIGEST_KINDS:
        keys = {
            idempotency_key(kind, site.code, "digest", due, settings.digest_channel, a): a
            for a in _addresses(settings, kind, site)
        }
        known = set(
            session.exec(
                select(Reminder.idempotency_key).where(col(Reminder.idempotency_key).in_(keys))
            )
        )
        missing = [k for k in keys if k not in known]
        if not missing:
            continue
        if kind == "nurse_digest":
            body = nurse_digest(session, site, day, now)
            title = f"Who is due at {site.code} on {day}"
        else:
            body = pharmacy_digest(session, site, day, now, settings)
            title = f"To prepare at {site.code} on {day}"
        insert_ignoring_duplicates(
            session,
            [
                {
                    "kind": kind,
                    "subject_id": None,
                    "site_id": site.id,
                    "item_key": site.code,
                    "due_at": due,
                    "expires_at": due + grace,
                    "channel": settings.digest_channel,
                    "address": keys[key],
                    "idempotency_key": key,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": due,
                    "title": title,
                    "body": body,
                    "created_at": now,
                    "updated_at": now,
                }
                for key in missing
            ],
        )
        queued += len(missing)
    return queued
