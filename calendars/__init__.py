"""iCalendar export and feeds (RFC 5545): the only package that imports icalendar.

Pure rendering: plans from ``scheduler.core`` (or plain ``Preparation`` rows) in, bytes out; no
database, no clock. The service layer stores identities and calls, in this order:

1. ``patient_items(plan, options, bookings=...)`` / ``site_visit_items(plans, options)`` /
   ``pharmacy_items(rows, options)`` / ``site_appointment_items(rows, options)``: one
   ``FeedItem`` per dose slot, visit, preparation or appointment, keyed ``(subject,
   "dose:C2D5" | "visit:C2D1" | "prepare:C3" | "appointment:C2D1")``, with a ``fingerprint`` of
   everything a client sees. Only template text reaches SUMMARY and DESCRIPTION; typed text
   (address, phone, calendar name, protocol labels) goes through ``clean``.
2. ``assign_identities(items, stored, now)``: the stored ``Identity(uid, sequence,
   fingerprint, revised)`` when nothing visible changed; SEQUENCE + 1 and revision ``now`` when
   something did; a random uuid4 at SEQUENCE 0 for a new item. SEQUENCE never decreases.
3. ``render_feed(items, identities, options, today)``: the VCALENDAR bytes. Held or cancelled
   items are STATUS:CANCELLED without alarm and stay ``KEEP_CANCELLED`` (30 days) after their
   last revision, then drop out (``in_feed``). DTSTAMP and LAST-MODIFIED are the item's
   revision time, so the same inputs give the same bytes.

``render_patient_feed`` does 1-3 for one plan with identities already stored (tests, files).

Dose times use ``scheduler.core.times.local_instant``: a dose time inside a spring-forward gap
is written as the shifted wall time (02:30 -> 03:30); one in an autumn fold means its first
occurrence and is written in UTC, because ical.js and khal read an ambiguous wall time as its
second occurrence. Every client then computes the instant the reminders use. VTIMEZONE onsets
are corrected to RFC 5545's "wall time before the change" (icalendar 7.3 writes spring
onsets an hour late).
"""

from collections.abc import Mapping
from datetime import date

from calendars.identity import KEEP_CANCELLED, Identity, assign_identities, in_feed
from calendars.items import (
    FeedItem,
    ItemKey,
    Preparation,
    SiteAppointment,
    patient_items,
    pharmacy_items,
    site_appointment_items,
    site_visit_items,
)
from calendars.options import PRODID, RENDER_FORMAT, FeedOptions
from calendars.render import render_feed, shown_items
from calendars.text import clean
from scheduler.core import Plan


def render_patient_feed(
    plan: Plan, identities: Mapping[ItemKey, Identity], options: FeedOptions, today: date
) -> bytes:
    """One subject's feed from identities already stored for every item of the plan."""
    return render_feed(patient_items(plan, options), identities, options, today)


__all__ = [
    "KEEP_CANCELLED",
    "PRODID",
    "RENDER_FORMAT",
    "FeedItem",
    "FeedOptions",
    "Identity",
    "ItemKey",
    "Preparation",
    "SiteAppointment",
    "assign_identities",
    "clean",
    "in_feed",
    "patient_items",
    "pharmacy_items",
    "render_feed",
    "render_patient_feed",
    "shown_items",
    "site_appointment_items",
    "site_visit_items",
]
