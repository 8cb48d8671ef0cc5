"""Random plans and random typed text always give a feed that parses, with nothing injected.

Plans come from random histories (tests/random_plans.py, the strategy of the core's properties,
trimmed to what a feed shows). Wherever the feed takes text a person typed (the site's address and
phone, the calendar's name, the protocol's visit names and what to bring, the drug's name and
form) it gets random text with CR, LF, NUL, other control characters, emoji and iCalendar
syntax, up to 2,000 characters. icalendar and ical.js must both read every feed without an
error, find exactly one VEVENT per dose slot and visit, and find the same components and
properties as in the same plan rendered with plain text. Each example is a batch of feeds, so
node starts once per example.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ical_consumers import FeedView, read_with_icalendar, read_with_icaljs
from random_plans import random_histories

import calendars
from calendars import render
from scheduler.core import (
    Anchors,
    History,
    Plan,
    build_plan,
)
from scheduler.protocols import Protocol, load_protocol, shipped_protocol_files

PROTOCOLS = tuple(load_protocol(path) for path in shipped_protocol_files())
ZONES = tuple(
    ZoneInfo(key)
    for key in ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Sydney")
)
BATCH = 4
NASTY = (
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x1b[31m",
    "\x7f",
    "\u0085",
    "\u2028",
    "\u202e",
    "\ufeff",
    "😀",
    "👩\u200d⚕️",
    "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:injected",
    "\nATTACH:https://example.org/x",
    "\r\n END:VCALENDAR",
    ";TZID=evil:",
    ",",
    ";",
    ":",
    "\\",
    "\\n",
    '"',
)


def subjects(protocol: Protocol) -> st.SearchStrategy[tuple[Anchors, History, date]]:
    """Anchors, a random history the core accepts for ``protocol``, and today: holds,
    resumptions, doses recorded as due and discontinuations, up to 8 events."""
    return random_histories(
        [protocol],
        zones=ZONES,
        kinds=("hold", "resume", "record_due", "discontinue"),
        max_events=8,
        taken_times=False,
    ).map(lambda drawn: drawn[1:])


person_text = st.one_of(
    st.lists(st.one_of(st.sampled_from(NASTY), st.characters(codec="utf-8")), max_size=40).map(
        "".join
    ),
    st.tuples(st.sampled_from(NASTY), st.text(st.characters(codec="utf-8"), max_size=3)).map(
        lambda parts: ("".join(parts) * 2000)[:2000]
    ),
)


def _template_safe(name: str) -> str:
    """A visit name is a protocol template ("Cycle {cycle} Day 1"): braces are its syntax,
    checked when a protocol is loaded, so typed names here keep none."""
    return name.replace("{", "(").replace("}", ")") or "x"


@st.composite
def typed_plans(draw: st.DrawFn) -> tuple[Plan, Plan, calendars.FeedOptions]:
    """One subject's plan under a protocol whose visit names, what to bring and drug texts a
    person typed; the same plan under the shipped protocol; and typed feed options."""
    shipped = draw(st.sampled_from(PROTOCOLS))
    anchors, history, today = draw(subjects(shipped))
    visits = [
        visit.model_copy(
            update={"name": _template_safe(draw(person_text)), "bring": draw(person_text)}
        )
        for visit in shipped.visits
    ]
    drug = shipped.drug.model_copy(
        update={"name": draw(person_text) or "x", "form": draw(person_text)}
    )
    typed = shipped.model_copy(update={"visits": visits, "drug": drug})
    options = calendars.FeedOptions(
        calendar_name=draw(person_text),
        site_address=draw(person_text),
        clinic_phone=draw(person_text),
        show_drug_name=draw(st.booleans()),
    )
    return (
        build_plan(typed, anchors, history, today),
        build_plan(shipped, anchors, history, today),
        options,
    )


LOCATION = ("VCALENDAR/VEVENT", "LOCATION")
PLAIN = calendars.FeedOptions(site_address="1 Clinic Road", clinic_phone="+86 571 0000 0000")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _render(plan: Plan, options: calendars.FeedOptions, staff: bool) -> bytes:
    """The patient feed (or the site's visit feed) of ``plan``, identities new today."""
    now = datetime.combine(plan.today, time(4), tzinfo=UTC)
    if staff:
        items = calendars.site_visit_items([plan], options)
    else:
        items = calendars.patient_items(plan, options)
    identities = calendars.assign_identities(items, {}, now)
    return calendars.render_feed(items, identities, options, plan.today)


def _window(plan: Plan) -> tuple[date, date]:
    days = [s.date for s in plan.doses()] + [v.actual or v.target for v in plan.visits]
    return min(days) - timedelta(days=2), max(days) + timedelta(days=2)


def _typed_value_is_clean(value: str, *, lines: bool = False) -> bool:
    """No control character (a DESCRIPTION keeps its template's line breaks), no line or
    paragraph separator, no bidi override."""
    for ch in value:
        if lines and ch == "\n":
            continue
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI:
            return False
    return True


def _unescaped(raw: str) -> str:
    """A TEXT value as RFC 5545 reads it (icalendar leaves calendar-level NAME escaped)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), raw)


def _check_text(feed: bytes) -> None:
    calendar = icalendar.Calendar.from_ical(feed)
    name = _unescaped(str(calendar["NAME"]))
    assert len(name) <= 80
    assert str(calendar["NAME"]) == str(calendar["X-WR-CALNAME"])
    assert _typed_value_is_clean(name)
    for event in calendar.walk("VEVENT"):
        assert _typed_value_is_clean(str(event["SUMMARY"]))
        assert _typed_value_is_clean(str(event["DESCRIPTION"]), lines=True)
        if "LOCATION" in event:
            location = str(event["LOCATION"])
            assert 0 < len(location) <= 200 and _typed_value_is_clean(location)
        for alarm in event.walk("VALARM"):
            assert _typed_value_is_clean(str(alarm["DESCRIPTION"]))


def _check_shape(shape: tuple[tuple[str, str], ...] | None, plain: FeedView) -> None:
    """The same components and properties as with plain text; LOCATION only may be absent
    (typed text that cleans to nothing)."""
    assert shape is not None and plain.shape is not None
    got, want = Counter(shape), Counter(plain.shape)
    assert got[LOCATION] in (0, want[LOCATION])
    del got[LOCATION], want[LOCATION]
    assert got == want


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # Shrinking 2,000-character texts in batches takes minutes; a failure still prints its
    # example and seed.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(st.lists(typed_plans(), min_size=BATCH, max_size=BATCH))
def test_typed_text_never_breaks_a_feed_or_injects_into_it(icaljs, examples):
    cases = []
    for typed, plain, options in examples:
        for staff in (False, True):
            expected = len(typed.visits) + (0 if staff else len(list(typed.doses())))
            feed = _render(typed, options, staff)
            baseline = read_with_icalendar(_render(plain, PLAIN, staff), _window(typed))
            cases.append((feed, expected, baseline, _window(typed)))

    by_icaljs = read_with_icaljs([feed for feed, *_ in cases])
    for (feed, expected, baseline, window), icaljs in zip(cases, by_icaljs, strict=True):
        by_icalendar = read_with_icalendar(feed, window)
        assert isinstance(icaljs, FeedView), icaljs
        assert len(by_icalendar.events) == len(icaljs.events) == len(baseline.events) == expected
        _check_shape(by_icalendar.shape, baseline)
        assert icaljs.shape == by_icalendar.shape
        assert {e.uid: e.summary for e in icaljs.events} == {
            e.uid: e.summary for e in by_icalendar.events
        }
        _check_text(feed)


@pytest.mark.parametrize("typed", ["a\\Nb", "\u00f2\\Nb"], ids=["ascii", "non-ascii"])
def test_a_typed_backslash_n_stays_two_characters_in_every_text_value(icaljs, typed):
    """A person types backslash and "N" (an address with a path in it, a stray escape): it
    reaches the calendar as those two characters, never as a line break. icalendar's own
    escaping reads backslash-N as its shorthand for a line break; ASCII text goes through the
    line writer and other text through icalendar, so both paths are checked."""
    shipped = PROTOCOLS[0]
    visits = [
        visit.model_copy(update={"name": f"{typed} {i}", "bring": typed})
        for i, visit in enumerate(shipped.visits)
    ]
    protocol = shipped.model_copy(update={"visits": visits})
    today = date(2026, 3, 1)
    anchors = Anchors(
        subject="P-1",
        c1d1=date(2026, 3, 2),
        surgery=date(2026, 2, 1),
        time_zone=ZONES[0],
        dose_time=time(8, 0),
    )
    plan = build_plan(protocol, anchors, History(), today)
    options = calendars.FeedOptions(site_address=typed, clinic_phone=typed, calendar_name=typed)
    feed = _render(plan, options, staff=False)

    calendar = icalendar.Calendar.from_ical(feed)
    # The calendar's name is TEXT too (RFC 7986): the backslash escaped, not sent raw.
    escaped = typed.replace("\\", "\\\\").encode()
    assert f"\r\nNAME:{escaped.decode()}\r\n".encode() in feed
    assert f"\r\nX-WR-CALNAME:{escaped.decode()}\r\n".encode() in feed
    visit_events = [e for e in calendar.walk("VEVENT") if "Study visit" in str(e["SUMMARY"])]
    assert visit_events
    for event in calendar.walk("VEVENT"):
        assert _typed_value_is_clean(str(event["SUMMARY"]))
        assert str(event["DESCRIPTION"]).count(f"call the study team at {typed}.") == 1
        for alarm in event.walk("VALARM"):
            assert _typed_value_is_clean(str(alarm["DESCRIPTION"]))
    for event in visit_events:
        assert str(event["LOCATION"]) == typed
        assert f"Please bring: {typed}." in str(event["DESCRIPTION"]).split("\n")
    # The protocol's name is for staff on dispensing days; every other visit shows it.
    named = [str(e["SUMMARY"]) for e in visit_events if "first day of cycle" not in e["SUMMARY"]]
    assert named
    assert all(name.startswith(f"Study visit: {typed} ") for name in named), named
    [by_icaljs] = read_with_icaljs([feed])
    assert isinstance(by_icaljs, FeedView), by_icaljs
    assert {e.summary for e in by_icaljs.events} == {
        str(e["SUMMARY"]) for e in calendar.walk("VEVENT")
    }


# Hypothesis takes naive bounds; the zone comes from its timezones argument.
FIRST, LAST = datetime(2025, 1, 1), datetime(2028, 12, 31)  # noqa: DTZ001
ascii_text = st.text(
    st.one_of(
        st.sampled_from('\\;,^:"\n\r\t N'), st.characters(min_codepoint=32, max_codepoint=126)
    ),
    max_size=400,
)
chinese_text = st.text(
    st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from("\\;,^ 12\uff1a\uff0c\u3002\uff08\uff09"),
    ),
    max_size=200,
)
"""Chinese (three octets a character) mixed with what icalendar escapes, to cross folds."""
any_text = st.one_of(ascii_text, person_text, chinese_text)
starts = st.one_of(
    st.dates(date(2025, 1, 1), date(2028, 12, 31)),
    st.datetimes(FIRST, LAST, timezones=st.just(UTC)).map(lambda at: at.replace(microsecond=0)),
    st.tuples(st.datetimes(FIRST, LAST), st.sampled_from(ZONES)).map(
        lambda pair: pair[0].replace(microsecond=0, tzinfo=pair[1])
    ),
)


@st.composite
def feed_items(draw: st.DrawFn) -> tuple[calendars.FeedItem, calendars.Identity]:
    start = draw(starts)
    timed = isinstance(start, datetime)
    item = calendars.FeedItem(
        subject="P-1",
        key="dose:C1D1",
        summary=draw(any_text),
        description=draw(any_text),
        location=draw(any_text),
        start=start,
        end=None if timed else start + timedelta(days=1),
        duration=timedelta(minutes=draw(st.integers(1, 240))) if timed else None,
        status=draw(st.sampled_from(["CONFIRMED", "TENTATIVE", "CANCELLED"])),
        alarm=draw(st.one_of(st.none(), st.timedeltas(timedelta(days=-2), timedelta(0)))),
        alarm_text=draw(any_text),
    )
    identity = calendars.Identity(
        uid=draw(st.one_of(st.uuids().map(str), ascii_text.filter(bool))),
        sequence=draw(st.integers(0, 10_000)),
        fingerprint=item.fingerprint,
        revised=draw(st.datetimes(FIRST, LAST, timezones=st.just(UTC))),
    )
    return item, identity


@settings(max_examples=400, deadline=None)
@given(feed_items())
def test_the_fast_event_writer_writes_exactly_what_icalendar_writes(example):
    """``write_event`` gives icalendar's own bytes for any text (escapes, backslashes and
    carets at the fold, 400-character lines, CR and LF, multi-octet characters across the fold)
    and declines only text with a byte-order mark, which icalendar drops."""
    item, identity = example
    reference = render.event_component(item, identity).to_ical()
    written = render.write_event(item, identity)
    texts = [item.summary, item.description, item.location, identity.uid]
    if item.alarm is not None and not item.cancelled:
        texts.append(item.alarm_text)
    if any("\ufeff" in text for text in texts):
        assert written is None
    else:
        assert written == reference
