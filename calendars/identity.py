"""Stored identities of feed events: UID, SEQUENCE and the revision time.

A client that merges by UID keeps an event only as long as its UID is stable, and applies a
change only when SEQUENCE rises; DTSTAMP and LAST-MODIFIED are the item's own revision time, so
an unchanged plan renders to identical bytes. The UID is random (uuid4): it says nothing about
the subject.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from calendars.items import FeedItem, ItemKey

KEEP_CANCELLED = timedelta(days=30)
"""How long a held or cancelled event stays in a feed after its last change, so that every
client polling the feed sees it cancelled before it drops out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """What is stored per feed event."""

    uid: str
    sequence: int
    fingerprint: str
    """``FeedItem.fingerprint`` as of the last revision."""
    revised: datetime
    """Aware; rendered in UTC as DTSTAMP and LAST-MODIFIED."""

    def __post_init__(self) -> None:
        if self.revised.tzinfo is None:
            raise ValueError("Identity.revised must be timezone-aware")
        if self.sequence < 0:
            raise ValueError("Identity.sequence starts at 0")


def _new_uid() -> str:
    return str(uuid.uuid4())


def assign_identities(
    items: Iterable[FeedItem],
    stored: Mapping[ItemKey, Identity],
    now: datetime,
    new_uid: Callable[[], str] = _new_uid,
) -> dict[ItemKey, Identity]:
    """The identity of every item: the stored one when nothing visible changed, the stored UID
    with SEQUENCE + 1 and revision ``now`` when something did, a fresh UID at SEQUENCE 0 for an
    item never seen. Stored identities of items not given are not returned (the caller keeps
    them, so an item that comes back keeps its UID)."""
    now = now.astimezone(UTC)
    result: dict[ItemKey, Identity] = {}
    for item in items:
        fingerprint = item.fingerprint
        old = stored.get(item.ident)
        if old is None:
            result[item.ident] = Identity(
                uid=new_uid(), sequence=0, fingerprint=fingerprint, revised=now
            )
        elif old.fingerprint != fingerprint:
            result[item.ident] = Identity(
                uid=old.uid, sequence=old.sequence + 1, fingerprint=fingerprint, revised=now
            )
        else:
            result[item.ident] = old
    return result


def in_feed(item: FeedItem, identity: Identity, today: date) -> bool:
    """Whether the item is shown today: always when live, for 30 days after the last change
    when held or cancelled."""
    if not item.cancelled:
        return True
    return today - identity.revised.astimezone(UTC).date() <= KEEP_CANCELLED
