"""The consumers themselves, checked on hand-written feeds before they judge ours.

Each feed carries a hand-written VTIMEZONE (the RRULE form most servers publish) and events on
both sides of every 2026 and 2027 DST change of its zone, including a time inside the spring
gap and one inside the autumn fold. Every consumer's UTC start must equal Python's zoneinfo
with fold=0 (what RFC 5545 prescribes for gaps and folds). Broken feeds show that the
consumers notice what they claim to notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from ical_consumers import (
    CONSUMERS,
    ICALENDAR,
    ICALJS,
    KHAL,
    Consumer,
    ConsumerError,
    EventView,
    FeedConsumers,
    FeedView,
    KhalSubscriptions,
    canonical,
    read_with_icalendar,
    read_with_icaljs,
    seen,
)

VTIMEZONES = {
    "America/New_York": """BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE
""",
    "Europe/Berlin": """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
""",
    "Australia/Sydney": """BEGIN:VTIMEZONE
TZID:Australia/Sydney
BEGIN:STANDARD
TZOFFSETFROM:+1100
TZOFFSETTO:+1000
TZNAME:AEST
DTSTART:19700405T030000
RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU
END:STANDARD
BEGIN:DAYLIGHT
TZOFFSETFROM:+1000
TZOFFSETTO:+1100
TZNAME:AEDT
DTSTART:19701004T020000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU
END:DAYLIGHT
END:VTIMEZONE
""",
    "Asia/Shanghai": """BEGIN:VTIMEZONE
TZID:Asia/Shanghai
BEGIN:STANDARD
TZOFFSETFROM:+0800
TZOFFSETTO:+0800
TZNAME:CST
DTSTART:19700101T000000
END:STANDARD
END:VTIMEZONE
""",
}
ZONES = tuple(VTIMEZONES)
WINDOW = (date(2025, 12, 1), date(2028, 1, 31))
TIMES = (time(0, 30), time(1, 30), time(2, 30), time(3, 30), time(8, 0))
HALF_HOUR = timedelta(minutes=30)


def _transition_days(zone: ZoneInfo) -> list[date]:
    """Local days of 2026-2027 on which ``zone`` changes its UTC offset."""
    days = []
    day = date(2026, 1, 1)
    while day.year < 2028:
        midnight = datetime.combine(day, time(), zone).utcoffset()
        if midnight != datetime.combine(day + timedelta(days=1), time(), zone).utcoffset():
            days.append(day)
        day += timedelta(days=1)
    return days


def _local_times(name: str) -> list[datetime]:
    """Naive local times to put events at: around each DST change, or fixed days without."""
    zone = ZoneInfo(name)
    days = _transition_days(zone) or [date(2026, 3, 8), date(2026, 10, 25)]
    moments = []
    for day in days:
        moments.append(datetime.combine(day - timedelta(days=1), time(8, 0)))
        moments.extend(datetime.combine(day, at) for at in TIMES)
        moments.append(datetime.combine(day + timedelta(days=1), time(8, 0)))
    return moments


def _utc(local: datetime, name: str, fold: int = 0) -> datetime:
    return local.replace(tzinfo=ZoneInfo(name), fold=fold).astimezone(UTC)


def _is_gap_or_fold(local: datetime, name: str) -> bool:
    return _utc(local, name, 0) != _utc(local, name, 1)


def _is_fold(local: datetime, name: str) -> bool:
    """``local`` happens twice (both readings exist on the wall clock)."""
    zone = ZoneInfo(name)
    return _is_gap_or_fold(local, name) and all(
        _utc(local, name, fold).astimezone(zone).replace(tzinfo=None) == local for fold in (0, 1)
    )


def _rfc5545(local: datetime, name: str) -> datetime:
    """RFC 5545 3.3.5: in a gap the offset before it, in a fold the first occurrence."""
    return _utc(local, name, 0)


def _after_the_change(local: datetime, name: str) -> datetime:
    """ical.js 2.2: the offset after the change, so a gap time is an hour early (02:30 is
    01:30 standard time) and a fold time the second occurrence. This is PEP 495 fold=1."""
    return _utc(local, name, 1)


def _standard_time(local: datetime, name: str) -> datetime:
    """khal 0.14: it switches icalendar to pytz, whose localize() takes is_dst=False, so
    standard time wherever the wall time is ambiguous: a fold time is the second occurrence,
    a gap time reads with the offset before the gap (every zone here springs forward from
    standard time)."""
    return _utc(local, name, 1 if _is_fold(local, name) else 0)


READINGS = {ICALENDAR: _rfc5545, ICALJS: _after_the_change, KHAL: _standard_time}


def _wall(year: int, month: int, day: int, hour: int) -> datetime:
    """A naive wall-clock time, as a VEVENT with a TZID or a floating time states it."""
    return datetime.combine(date(year, month, day), time(hour))


def _stamp(local: datetime) -> str:
    return local.strftime("%Y%m%dT%H%M%S")


def _feed(name: str, events: list[str], vtimezone: str | None = None) -> bytes:
    body = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//dosing tests//hand-written//EN\n"
        + (VTIMEZONES[name] if vtimezone is None else vtimezone)
        + "".join(events)
        + "END:VCALENDAR\n"
    )
    return body.replace("\n", "\r\n").encode()


def _end_wall(name: str, local: datetime) -> datetime:
    """Half an hour after ``local`` on the wall clock, or after its instant when it starts in
    a gap (02:30 + 30 min would be 03:00, an instant before 02:30 shifted forward)."""
    end = local + HALF_HOUR
    if _utc(end, name) <= _utc(local, name):
        end = (_utc(local, name) + HALF_HOUR).astimezone(ZoneInfo(name)).replace(tzinfo=None)
    return end


def _unambiguous(prop: str, name: str, instant: datetime) -> str:
    """``prop`` at ``instant`` as its local time where that local time is unambiguous, and in
    UTC where it is not (an instant inside a fold has no local time of its own)."""
    wall = instant.astimezone(ZoneInfo(name)).replace(tzinfo=None)
    if _is_gap_or_fold(wall, name):
        return f"{prop}:{instant:%Y%m%dT%H%M%SZ}\n"
    return f"{prop};TZID={name}:{_stamp(wall)}\n"


def _timed_event(
    uid: str,
    summary: str,
    name: str,
    local: datetime,
    sequence: int,
    status: str,
    resolved: bool = False,
) -> str:
    """A dose at wall time ``local``, written as that wall time, or (``resolved``) as the
    RFC 5545 instant of it in a form no reader can take for another instant."""
    if resolved:
        start = _rfc5545(local, name)
        times = _unambiguous("DTSTART", name, start) + _unambiguous(
            "DTEND", name, start + HALF_HOUR
        )
    else:
        end = _end_wall(name, local)
        times = f"DTSTART;TZID={name}:{_stamp(local)}\nDTEND;TZID={name}:{_stamp(end)}\n"
    return (
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20260101T000000Z\nSEQUENCE:{sequence}\n"
        f"SUMMARY:{summary}\nSTATUS:{status}\n{times}"
        "BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:Dose\nTRIGGER:PT0S\nEND:VALARM\n"
        "END:VEVENT\n"
    )


@dataclass(frozen=True)
class Expected:
    """One event of a hand-written feed, as each consumer's reading of it must be."""

    by_consumer: dict[Consumer, EventView]
    ambiguous: bool
    """Written with a local start or end inside a gap or a fold."""


def _zone_case(name: str) -> tuple[bytes, list[Expected]]:
    """A feed for zone ``name``: every local time written as it is and again resolved."""
    events, expected = [], []
    for index, local in enumerate(_local_times(name)):
        sequence, status = index % 3, ("CANCELLED" if index % 5 == 4 else "CONFIRMED")
        for resolved in (False, True):
            summary = f"{'Resolved' if resolved else 'Wall'} dose at {local:%Y-%m-%d %H:%M} {name}"
            uid = f"{'resolved' if resolved else 'wall'}-{index:03d}-{name.replace('/', '-')}"
            events.append(_timed_event(uid, summary, name, local, sequence, status, resolved))
            end_wall = _end_wall(name, local)
            views = {}
            for consumer, reading in READINGS.items():
                start = _rfc5545(local, name) if resolved else reading(local, name)
                end = start + HALF_HOUR if resolved else reading(end_wall, name)
                views[consumer] = EventView(
                    uid=uid,
                    sequence=sequence,
                    summary=summary,
                    status=status,
                    start=start,
                    end=end,
                    alarms=(start,),
                ).seen_by(consumer)
            ambiguous = not resolved and (
                _is_gap_or_fold(local, name) or _is_gap_or_fold(end_wall, name)
            )
            expected.append(Expected(views, ambiguous))
    day = _transition_days(ZoneInfo(name))[-1] if name != "Asia/Shanghai" else date(2027, 1, 4)
    duration_start = datetime.combine(day + timedelta(days=2), time(9, 15))
    visit = day + timedelta(days=3)
    events.append(
        f"BEGIN:VEVENT\nUID:duration-{name}\nDTSTAMP:20260101T000000Z\nSEQUENCE:4\n"
        f"SUMMARY:Forty-five minutes\nDTSTART;TZID={name}:{_stamp(duration_start)}\n"
        "DURATION:PT45M\nEND:VEVENT\n"
        f"BEGIN:VEVENT\nUID:visit-{name}\nDTSTAMP:20260101T000000Z\nSEQUENCE:0\n"
        f"SUMMARY:Visit\\, fasting\nDTSTART;VALUE=DATE:{visit:%Y%m%d}\n"
        f"DTEND;VALUE=DATE:{visit + timedelta(days=1):%Y%m%d}\n"
        "BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:Visit tomorrow\nTRIGGER:-PT6H\nEND:VALARM\n"
        "END:VEVENT\n"
    )
    start = _utc(duration_start, name)
    for view in (
        EventView(
            uid=f"duration-{name}",
            sequence=4,
            summary="Forty-five minutes",
            status="",
            start=start,
            end=start + timedelta(minutes=45),
            alarms=(),
        ),
        EventView(
            uid=f"visit-{name}",
            sequence=0,
            summary="Visit, fasting",
            status="",
            start=visit,
            end=visit + timedelta(days=1),
            alarms=(datetime.combine(visit, time()) - timedelta(hours=6),),
        ),
    ):
        expected.append(Expected({c: view.seen_by(c) for c in CONSUMERS}, ambiguous=False))
    return _feed(name, events), expected


CASES = {name: _zone_case(name) for name in ZONES}


def _expected(zone: str, consumer: Consumer, ambiguous: bool) -> tuple[EventView, ...]:
    return canonical(e.by_consumer[consumer] for e in CASES[zone][1] if e.ambiguous == ambiguous)


def _read(
    views: dict[str, dict[Consumer, FeedView]], zone: str, consumer: Consumer, ambiguous: bool
) -> tuple[EventView, ...]:
    """The consumer's view of the events of one kind (khal shows no UID: match by title)."""
    wanted = {e.by_consumer[ICALENDAR].summary for e in CASES[zone][1] if e.ambiguous == ambiguous}
    return tuple(e for e in views[zone][consumer].events if e.summary in wanted)


FLOATING = _feed(
    "Asia/Shanghai",
    [
        "BEGIN:VEVENT\nUID:floating@harness\nDTSTAMP:20260101T000000Z\n"
        "DTSTART:20260330T080000\nDTEND:20260330T083000\nSUMMARY:Floating\nEND:VEVENT\n"
    ],
)


@pytest.fixture(scope="module")
def views(feed_consumers: FeedConsumers) -> dict[str, dict[Consumer, FeedView]]:
    """Every hand-written feed read by the three consumers (khal in one batch)."""
    feeds = {**{name: CASES[name][0] for name in ZONES}, "floating": FLOATING}
    read = feed_consumers.read(list(feeds.values()), WINDOW)
    return {
        name: {consumer: seen(view) for consumer, view in views.items()}
        for name, views in zip(feeds, read, strict=True)
    }


def test_the_fixtures_put_events_in_every_gap_and_fold_and_on_both_sides():
    for name in ("America/New_York", "Europe/Berlin", "Australia/Sydney"):
        zone = ZoneInfo(name)
        changes = _transition_days(zone)
        moments = _local_times(name)
        assert len(changes) == 4  # two springs, two autumns
        assert len([m for m in moments if _is_fold(m, name)]) == 2
        assert len([m for m in moments if _is_gap_or_fold(m, name)]) == 4
        for day in changes:
            before = datetime.combine(day - timedelta(days=1), time(8, 0))
            after = datetime.combine(day + timedelta(days=1), time(8, 0))
            assert {before, after} <= set(moments)
            assert _utc(before, name).utcoffset() == _utc(after, name).utcoffset()
            assert before.replace(tzinfo=zone).utcoffset() != after.replace(tzinfo=zone).utcoffset()
    assert _transition_days(ZoneInfo("Asia/Shanghai")) == []


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.name)
@pytest.mark.parametrize("zone", ZONES)
def test_every_consumer_reads_utc_times_equal_to_zoneinfo(views, consumer, zone):
    expected = _expected(zone, consumer, ambiguous=False)

    assert _read(views, zone, consumer, ambiguous=False) == expected
    for event in CASES[zone][1]:
        if not event.ambiguous:
            assert event.by_consumer[consumer] == event.by_consumer[ICALENDAR].seen_by(consumer)


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.name)
@pytest.mark.parametrize("zone", ZONES[:3])
def test_a_local_time_in_a_gap_or_fold_is_read_by_each_consumers_own_rule(views, consumer, zone):
    expected = _expected(zone, consumer, ambiguous=True)

    assert len(expected) == 8  # per change, a start inside it and one ending inside it
    assert _read(views, zone, consumer, ambiguous=True) == expected


def test_the_three_rules_for_a_new_york_gap_and_fold(views):
    shifted_forward = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 02:30 read as 03:30 EDT
    first_occurrence = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    hour = timedelta(hours=1)
    rules = {
        ICALENDAR: (shifted_forward, first_occurrence),
        ICALJS: (shifted_forward - hour, first_occurrence + hour),
        KHAL: (shifted_forward, first_occurrence + hour),
    }
    for consumer, (gap, fold) in rules.items():
        starts = {e.summary: e.start for e in views["America/New_York"][consumer].events}
        assert starts["Wall dose at 2026-03-08 02:30 America/New_York"] == gap
        assert starts["Wall dose at 2026-11-01 01:30 America/New_York"] == fold
        assert starts["Resolved dose at 2026-03-08 02:30 America/New_York"] == shifted_forward
        assert starts["Resolved dose at 2026-11-01 01:30 America/New_York"] == first_occurrence


def test_a_resolved_time_is_written_as_the_shifted_local_time_or_in_utc():
    new_york = "America/New_York"
    gap = _timed_event("g", "g", new_york, _wall(2026, 3, 8, 2) + HALF_HOUR, 0, "", True)
    fold = _timed_event("f", "f", new_york, _wall(2026, 11, 1, 1) + HALF_HOUR, 0, "", True)

    assert "DTSTART;TZID=America/New_York:20260308T033000" in gap
    assert "DTSTART:20261101T053000Z" in fold


def test_icalendar_and_icaljs_list_the_same_feed_shape(views):
    for zone in ZONES:
        shape = views[zone][ICALENDAR].shape
        assert shape == views[zone][ICALJS].shape
        assert ("VCALENDAR/VEVENT/VALARM", "TRIGGER") in shape
        assert ("VCALENDAR/VTIMEZONE/DAYLIGHT", "RRULE") in shape or zone == "Asia/Shanghai"


# --- the consumers notice broken feeds ---------------------------------------------------------

_WRONG_BERLIN = VTIMEZONES["Europe/Berlin"].replace("BYMONTH=3;BYDAY=-1SU", "BYMONTH=4;BYDAY=1SU")


def test_a_vtimezone_that_disagrees_with_the_tz_database_is_caught(feed_consumers):
    name = "Europe/Berlin"
    local = _wall(2026, 3, 30, 8)  # CEST by the database, CET by the wrong VTIMEZONE
    feed = _feed(
        name, [_timed_event("wrong@tz", "Wrong", name, local, 0, "CONFIRMED")], _WRONG_BERLIN
    )

    with pytest.raises(
        ConsumerError,
        match=(
            "at 2026-03-30 06:00Z the feed's VTIMEZONE Europe/Berlin gives UTC offset"
            " \\+01:00, the tz database \\+02:00"
        ),
    ):
        read_with_icalendar(feed, WINDOW)
    (by_icaljs,) = read_with_icaljs([feed])
    assert isinstance(by_icaljs, FeedView)
    assert by_icaljs.events[0].start == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert by_icaljs.events[0].start != _utc(local, name)


_LATE_ONSET_NEW_YORK = VTIMEZONES["America/New_York"].replace(
    "DTSTART:19700308T020000", "DTSTART:19700308T030000"
)


def test_a_spring_onset_written_after_the_change_is_caught():
    """RFC 5545 3.6.5: an onset is in the local time before it (02:00 EST for New York). One
    written as the wall time after the change (03:00 EST) starts summer time an hour late, so
    by the feed's own zone 07:00-08:00Z is still standard time and 03:30 is inside a gap."""
    name = "America/New_York"
    local = _wall(2026, 3, 8, 3) + HALF_HOUR
    event = _timed_event("late@tz", "Late onset", name, local, 0, "CONFIRMED")

    with pytest.raises(
        ConsumerError,
        match="at 2026-03-08 07:30Z the feed's VTIMEZONE America/New_York gives UTC offset -05:00",
    ):
        read_with_icalendar(_feed(name, [event], _LATE_ONSET_NEW_YORK), WINDOW)
    read_with_icalendar(_feed(name, [event]), WINDOW)


def test_a_tzid_without_its_vtimezone_is_refused(feed_consumers):
    local = _wall(2026, 3, 30, 8)
    feed = _feed("Asia/Shanghai", [_timed_event("lost@tz", "Lost", "Europe/Berlin", local, 0, "")])

    with pytest.raises(ConsumerError, match="no VTIMEZONE"):
        read_with_icalendar(feed, WINDOW)
    (by_icaljs,) = read_with_icaljs([feed])
    assert isinstance(by_icaljs, ConsumerError)
    assert "no VTIMEZONE" in str(by_icaljs)


def test_a_floating_time_never_equals_an_instant(views):
    floating = views["floating"]
    for consumer in (ICALENDAR, ICALJS):
        assert floating[consumer].events[0].start == _wall(2026, 3, 30, 8)
        assert floating[consumer].events[0].start.tzinfo is None
    # khal, set to UTC, shows a floating time at that wall time in UTC: it cannot tell.
    assert floating[KHAL].events[0].start == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_a_broken_feed_is_an_error_and_not_an_empty_calendar(feed_consumers):
    feed = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VCALENDAR\r\n"

    with pytest.raises(ConsumerError):
        read_with_icalendar(feed, WINDOW)
    (by_icaljs,) = read_with_icaljs([feed])
    assert isinstance(by_icaljs, ConsumerError)


def test_an_injected_property_changes_the_shape(feed_consumers):
    name = "Asia/Shanghai"
    local = _wall(2026, 3, 30, 8)
    plain = _timed_event("shape@harness", "Shape", name, local, 0, "CONFIRMED")
    injected = plain.replace("SUMMARY:", "ATTACH:http://example.org/x\nSUMMARY:")

    before = read_with_icalendar(_feed(name, [plain]), WINDOW).shape
    after = read_with_icalendar(_feed(name, [injected]), WINDOW).shape
    (icaljs_after,) = read_with_icaljs([_feed(name, [injected])])

    assert before is not None and after is not None
    assert set(after) - set(before) == {("VCALENDAR/VEVENT", "ATTACH")}
    assert isinstance(icaljs_after, FeedView) and icaljs_after.shape == after


def test_khal_reads_an_update_after_polling_the_url_again(feed_consumers, tmp_path):
    name = "Asia/Shanghai"
    local = _wall(2026, 3, 30, 8)
    kept = _timed_event("kept@harness", "Kept", name, local, 0, "CONFIRMED")
    moved_from = _timed_event("moved@harness", "Moved", name, local, 0, "CONFIRMED")
    moved_to = _timed_event("moved@harness", "Moved", name, local + HALF_HOUR, 1, "CONFIRMED")
    dropped = _timed_event("dropped@harness", "Dropped", name, local, 0, "CONFIRMED")
    added = _timed_event("added@harness", "Added", name, local, 0, "CANCELLED")
    url = feed_consumers.server.publish("poll", _feed(name, [kept, moved_from, dropped]))
    khal = KhalSubscriptions(tmp_path)
    feed = khal.subscribe(url)
    window = (date(2026, 3, 29), date(2026, 3, 31))

    before = khal.sync(window)[feed].events
    feed_consumers.server.publish("poll", _feed(name, [kept, moved_to, added]))
    after = khal.sync(window)[feed].events

    assert [(e.summary, e.start) for e in before] == [
        ("Dropped", _utc(local, name)),
        ("Kept", _utc(local, name)),
        ("Moved", _utc(local, name)),
    ]
    assert [(e.summary, e.start, e.status) for e in after] == [
        ("Added", _utc(local, name), "CANCELLED"),
        ("Kept", _utc(local, name), "CONFIRMED"),
        ("Moved", _utc(local + HALF_HOUR, name), "CONFIRMED"),
    ]
