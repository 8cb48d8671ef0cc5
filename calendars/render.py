"""Items and identities to iCalendar bytes (RFC 5545).

A feed is a subscription, not a scheduling message: no METHOD, and no UID on the VCALENDAR (a
calendar-level UID makes some clients collapse the whole feed into one event). Every TZID used
has a VTIMEZONE generated from the tz database for the years the events span, so the output is
byte-stable for the same items and identities and no time is floating.

icalendar builds the calendar's properties, the VTIMEZONEs and, through ``event_component``,
the reference form of every VEVENT. Serialising 127 icalendar ``Event`` objects takes about
40 ms, so ``write_event`` writes the same bytes line by line; tests compare the two byte for
byte on random text. Both escape text with ``_escape``, not icalendar's ``vText``: vText
reads a typed backslash-N as a line break (its shorthand for one), so a visit named ``a\\Nb``
would show as two lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vDuration, vText, vUTCOffset

from calendars.identity import Identity, in_feed
from calendars.items import FeedItem, ItemKey
from calendars.options import PRODID, FeedOptions
from calendars.text import clean

REFRESH = timedelta(hours=1)
_MINUTE = timedelta(minutes=1)


def _sort_key(item: FeedItem) -> tuple[datetime, str, str]:
    start = item.start
    if isinstance(start, datetime):
        instant = start.astimezone(UTC)
    else:
        instant = datetime(start.year, start.month, start.day, tzinfo=UTC)
    return instant, item.subject, item.key


def _escape(value: str) -> str:
    """A TEXT value as RFC 5545 (3.3.11) writes it: backslash, semicolon and comma escaped,
    a line break (CRLF, LF or a lone CR) as ``\\n``, every other character as it is.

    icalendar's own escaping first turns the two characters backslash and "N" into a line
    break (RFC 5545's capital escape, which only a reader should resolve), so text a person
    typed with a backslash reached clients with a line break in it."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


class _Text(vText):
    """A TEXT property value that icalendar serialises with ``_escape`` (in UTF-8, as vText)."""

    __slots__ = ()

    def to_ical(self) -> bytes:
        return _escape(self).encode()


def event_component(item: FeedItem, identity: Identity) -> Event:
    """The VEVENT as an icalendar component: the reference for ``write_event``. Text goes in
    as ``_Text``, so icalendar escapes it as ``write_event`` does."""
    event = Event()
    event.add("uid", _Text(identity.uid))
    event.add("sequence", identity.sequence)
    revised = identity.revised.astimezone(UTC)
    event.add("dtstamp", revised)
    event.add("last-modified", revised)
    event.add("summary", _Text(item.summary))
    event.add("description", _Text(item.description))
    if item.location:
        event.add("location", _Text(item.location))
    event.add("dtstart", item.start)
    if item.duration is not None:
        event.add("duration", item.duration)
    else:
        event.add("dtend", item.end)
    event.add("status", item.status)
    event.add("transp", "TRANSPARENT")
    event.add("class", "PRIVATE")
    if item.alarm is not None and not item.cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _Text(item.alarm_text or item.summary))
        alarm.add("trigger", vDuration(item.alarm))
        event.add_component(alarm)
    return event


_EVENTS: dict[tuple[str, str, str, Identity], bytes] = {}
_MAX_EVENTS = 100_000
_SIMPLE_TZID = re.compile(r"[A-Za-z0-9/_+-]+")
_FOLD_AT = 74
"""Octets of a folded line: icalendar folds before a line would reach 75."""


def _fold(line: str) -> str:
    """icalendar's folding of a content line: at most 74 octets a line (UTF-8, never inside a
    character), and never between a backslash or caret and the character it escapes."""
    if not line.isascii():
        return _fold_utf8(line)
    if len(line) <= _FOLD_AT:
        return line
    parts = []
    pos = 0
    while len(line) - pos > _FOLD_AT:
        end = pos + _FOLD_AT
        if line[end - 1] in "\\^":
            end -= 1
        parts.append(line[pos:end])
        pos = end
    parts.append(line[pos:])
    return "\r\n ".join(parts)


def _fold_utf8(line: str) -> str:
    """``_fold`` for a line with characters beyond ASCII (Chinese: three octets each), cut on
    the encoded bytes: a cut never falls inside a character (a continuation byte starts no
    line), nor after a backslash or caret that escapes the next character."""
    data = line.encode()
    if len(data) <= _FOLD_AT:
        return line
    parts = []
    pos = 0
    while len(data) - pos > _FOLD_AT:
        end = pos + _FOLD_AT
        while data[end] & 0xC0 == 0x80:
            end -= 1
        if data[end - 1] in b"\\^" and end - 1 > pos:
            end -= 1
        parts.append(data[pos:end].decode())
        pos = end
    parts.append(data[pos:].decode())
    return "\r\n ".join(parts)


_DECLINED = frozenset("\ufeff")
"""Characters icalendar treats specially (it drops a byte-order mark): such text goes
through icalendar whole."""


@lru_cache(maxsize=64)
def _duration(value: timedelta) -> str:
    written: bytes = vDuration(value).to_ical()  # type: ignore[no-untyped-call]
    return written.decode()


def _day(value: date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _wall(value: datetime) -> str:
    return f"{_day(value)}T{value.hour:02d}{value.minute:02d}{value.second:02d}"


def _utc(value: datetime) -> str:
    return f"{_wall(value)}Z"


def write_event(item: FeedItem, identity: Identity) -> bytes | None:
    """The bytes of ``event_component(item, identity).to_ical()``, built line by line:
    ``_escape`` escapes the text and icalendar writes the durations; the lines are put in its order
    (SUMMARY, DTSTART, DTEND or DURATION, DTSTAMP, UID, SEQUENCE, then alphabetical) and folded
    as it folds (by UTF-8 octets, so Chinese text takes this path too). None for what this
    path does not cover (a byte-order mark, an unusual TZID), which goes through icalendar
    whole."""
    start = item.start
    if isinstance(start, datetime):
        if start.tzinfo is UTC:
            dtstart = f"DTSTART:{_utc(start)}"
        else:
            zone = item.zone or ""
            if not _SIMPLE_TZID.fullmatch(zone):
                return None
            dtstart = f"DTSTART;TZID={zone}:{_wall(start)}"
    else:
        dtstart = f"DTSTART;VALUE=DATE:{_day(start)}"
    if item.duration is not None:
        until = f"DURATION:{_duration(item.duration)}"
    elif item.end is not None:
        until = f"DTEND;VALUE=DATE:{_day(item.end)}"
    else:
        return None
    revised = _utc(identity.revised.astimezone(UTC))
    lines = [
        "BEGIN:VEVENT",
        f"SUMMARY:{_escape(item.summary)}",
        dtstart,
        until,
        f"DTSTAMP:{revised}",
        f"UID:{_escape(identity.uid)}",
        f"SEQUENCE:{identity.sequence}",
        "CLASS:PRIVATE",
        f"DESCRIPTION:{_escape(item.description)}",
        f"LAST-MODIFIED:{revised}",
    ]
    if item.location:
        lines.append(f"LOCATION:{_escape(item.location)}")
    lines += [f"STATUS:{item.status}", "TRANSP:TRANSPARENT"]
    if item.alarm is not None and not item.cancelled:
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{_escape(item.alarm_text or item.summary)}",
            f"TRIGGER:{_duration(item.alarm)}",
            "END:VALARM",
        ]
    lines.append("END:VEVENT\r\n")
    text = "\r\n".join(_fold(line) for line in lines)
    if text.isascii():
        return text.encode("ascii")
    if _DECLINED.intersection(text):
        return None
    return text.encode()


def _event_bytes(item: FeedItem, identity: Identity) -> bytes:
    """One VEVENT serialised, memoised. Building an icalendar ``Event`` and serialising it
    costs about 0.3 ms per event (most of a cold render), so events are written line by line
    (``write_event``, tested byte for byte against icalendar's own output) and icalendar writes
    only what that path does not cover. The memo key is the item's fingerprint (everything it
    shows, zone included) and its identity, so a hit is always exact."""
    key = (item.subject, item.key, item.fingerprint, identity)
    body = _EVENTS.get(key)
    if body is None:
        if len(_EVENTS) >= _MAX_EVENTS:
            _EVENTS.clear()
        body = write_event(item, identity)
        if body is None:
            body = event_component(item, identity).to_ical()
        _EVENTS[key] = body
    return body


def clear_cache() -> None:
    """Forget memoised events (benchmarks measure a cold render with it)."""
    _EVENTS.clear()


def _onset(written: datetime, before: timedelta, after: timedelta, zone: ZoneInfo) -> datetime:
    """An onset as RFC 5545 3.6.5 wants it: the wall time just before the change.

    icalendar (7.3) writes a spring-forward onset as the wall time after the change (03:00 EST
    for New York instead of 02:00), which starts summer time an hour late in every client
    that reads the VTIMEZONE; this finds the real transition and writes it in the time before.
    """
    for offset in (before, after):
        instant = (written - offset).replace(tzinfo=UTC)
        if (
            instant.astimezone(zone).utcoffset() == after
            and (instant - _MINUTE).astimezone(zone).utcoffset() == before
        ):
            return (instant + before).replace(tzinfo=None)
    raise ValueError(f"{zone.key}: no change from {before} to {after} near {written}")


@lru_cache(maxsize=256)
def _timezone_bytes(key: str, first_year: int, last_year: int) -> bytes:
    zone = ZoneInfo(key)
    timezone = Timezone.from_tzinfo(
        zone, tzid=key, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
    )
    for observance in timezone.subcomponents:
        before = cast(vUTCOffset, observance["TZOFFSETFROM"]).td
        after = cast(vUTCOffset, observance["TZOFFSETTO"]).td
        if before == after:
            continue
        rdates = observance.pop("RDATE", None)
        if isinstance(rdates, list):
            written = [value.dt for lists in rdates for value in lists.dts]
        else:
            written = [value.dt for value in rdates.dts] if rdates is not None else []
        start = observance.pop("DTSTART").dt
        observance.add("dtstart", _onset(start, before, after, zone))
        # One RDATE per line: ical.js reads only the first value of a multi-valued RDATE.
        for value in written:
            observance.add("rdate", _onset(value, before, after, zone))
    body: bytes = timezone.to_ical()
    return body


def _timezones(items: list[FeedItem]) -> list[bytes]:
    years: dict[str, list[int]] = {}
    for item in items:
        if isinstance(item.start, datetime) and item.zone is not None:
            years.setdefault(item.zone, []).append(item.start.year)
    return [
        _timezone_bytes(key, min(span) - 1, max(span) + 1) for key, span in sorted(years.items())
    ]


def shown_items(
    items: Iterable[FeedItem], identities: Mapping[ItemKey, Identity], today: date
) -> list[FeedItem]:
    """The items a feed shows today, in feed order; every item needs its identity."""
    shown = []
    for item in items:
        identity = identities.get(item.ident)
        if identity is None:
            raise KeyError(f"no identity for {item.ident!r}: assign identities before rendering")
        if in_feed(item, identity, today):
            shown.append(item)
    shown.sort(key=_sort_key)
    return shown


def render_feed(
    items: Iterable[FeedItem],
    identities: Mapping[ItemKey, Identity],
    options: FeedOptions,
    today: date,
) -> bytes:
    """The feed as bytes: the items shown today (``in_feed``), each with its stored identity."""
    shown = shown_items(items, identities, today)
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    name = clean(options.calendar_name, 80) or "Study calendar"
    calendar.add("name", _Text(name))
    calendar.add("x-wr-calname", _Text(name))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    envelope: bytes = calendar.to_ical()
    # Components are serialised one by one (and memoised) and placed before END:VCALENDAR:
    # exactly the bytes icalendar writes for the whole calendar, at a fraction of the cost.
    end = b"END:VCALENDAR\r\n"
    if not envelope.endswith(end):
        raise AssertionError("icalendar changed how it ends a calendar")
    parts = [envelope[: -len(end)], *_timezones(shown)]
    parts.extend(_event_bytes(item, identities[item.ident]) for item in shown)
    parts.append(end)
    return b"".join(parts)
