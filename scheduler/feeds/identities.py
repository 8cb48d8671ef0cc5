"""Each calendar item's stable UID and SEQUENCE, so a subscribed client sees a change as an
update. They are synced when a feed is derived (``serving``), which happens on the first fetch
after a subject's records changed: an item is bumped once for the changes made between two
fetches, which is all a client can see."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

import calendars
from scheduler.core.wording import N_
from scheduler.feeds.tokens import APPOINTMENTS, PATIENT, PHARMACY, SITE_VISITS
from scheduler.i18n import wording
from scheduler.models import FeedItemIdentity, Site
from scheduler.settings import Settings

DEFAULT_CALENDAR_NAME = N_("Study calendar")
"""The setting's default: translated; a name the site typed is shown as typed."""
_STAFF_NAMES = {
    SITE_VISITS: "study visits",
    PHARMACY: "pharmacy preparation",
    APPOINTMENTS: "clinic appointments",
}


def feed_options(
    settings: Settings, site: Site, kind: str = PATIENT, language: str = "en"
) -> calendars.FeedOptions:
    """Options of one feed: staff feeds are named after the site and what they list; a
    patient's feed is in the subject's ``language`` (staff feeds in the source language)."""
    name = settings.feed_calendar_name
    if kind in _STAFF_NAMES:
        name = f"{site.code} {_STAFF_NAMES[kind]}"
        language = "en"
    elif name == DEFAULT_CALENDAR_NAME:
        name = wording(language).gettext(DEFAULT_CALENDAR_NAME)
    return calendars.FeedOptions(
        language=language,
        calendar_name=name,
        show_drug_name=settings.feed_show_drug_name,
        site_address=site.address or settings.default_site_address,
        clinic_phone=site.phone or settings.clinic_phone,
    )


def _options_digest(options: calendars.FeedOptions) -> str:
    """Changes when the options or the renderer's output format do, forcing a fresh render."""
    return hashlib.sha256(f"{calendars.RENDER_FORMAT}:{options!r}".encode()).hexdigest()


# -- identities -----------------------------------------------------------------------------


def _identity_rows(
    session: Session, kind: str, subject_ids: dict[str, int]
) -> dict[calendars.ItemKey, FeedItemIdentity]:
    codes = {v: k for k, v in subject_ids.items()}
    if not codes:
        return {}
    query = select(FeedItemIdentity).where(
        FeedItemIdentity.kind == kind, col(FeedItemIdentity.subject_id).in_(sorted(codes))
    )
    return {(codes[row.subject_id], row.key): row for row in session.exec(query)}


def _identity(row: FeedItemIdentity) -> calendars.Identity:
    return calendars.Identity(
        uid=row.uid, sequence=row.sequence, fingerprint=row.fingerprint, revised=row.revised_at
    )


def stored_identities(
    session: Session, kind: str, subject_ids: dict[str, int]
) -> dict[calendars.ItemKey, calendars.Identity]:
    """The identities feeds have already published for these subjects, keyed by item."""
    rows = _identity_rows(session, kind, subject_ids)
    return {key: _identity(row) for key, row in rows.items()}


def sync_identities(
    session: Session,
    kind: str,
    items: Sequence[calendars.FeedItem],
    subject_ids: dict[str, int],
    now: datetime,
) -> dict[calendars.ItemKey, calendars.Identity]:
    """Stored identities for ``items``, creating and bumping rows as ``assign_identities`` says."""
    rows = _identity_rows(session, kind, subject_ids)
    stored = {key: _identity(row) for key, row in rows.items()}
    assigned = calendars.assign_identities(items, stored, now)
    for key, identity in assigned.items():
        old = stored.get(key)
        if old is identity:
            continue
        existing = rows.get(key)
        if existing is None:
            row = FeedItemIdentity(
                kind=kind,
                subject_id=subject_ids[key[0]],
                key=key[1],
                uid=identity.uid,
                sequence=identity.sequence,
                fingerprint=identity.fingerprint,
                revised_at=identity.revised,
            )
        else:
            row = existing
            row.sequence = identity.sequence
            row.fingerprint = identity.fingerprint
            row.revised_at = identity.revised
        session.add(row)
    return assigned
