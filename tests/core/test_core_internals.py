"""The shortcuts the core takes for speed give exactly what the plain way gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core import Anchors, History, VisitDone, build_plan
from scheduler.core.layout import layout_for
from scheduler.core.times import (
    microseconds_of_day,
    minutes_between,
    offset_change_days,
    wall_minutes_between,
)
from scheduler.core.visits import VisitPlan, add_months
from scheduler.protocols import load_protocol, shipped_protocol_files

ZONES = [
    ZoneInfo(key)
    for key in ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai")
]


@given(st.dates(date(1900, 1, 1), date(2200, 12, 31)), st.integers(-40, 40))
def test_add_months_matches_relativedelta(day, months):
    assert add_months(day, months) == day + relativedelta(months=months)


@settings(max_examples=300)
@given(
    st.sampled_from(ZONES), st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.times(), st.times()
)
def test_lateness_on_a_day_without_an_offset_change_is_wall_clock_time(zone, day, at, taken):
    changes = offset_change_days(zone, day.year, day.year)
    assert changes is not None
    if day not in changes:
        fast = wall_minutes_between(microseconds_of_day(at), taken)
        assert fast == minutes_between(day, at, taken, zone)


def test_the_offset_change_days_are_the_dst_days():
    berlin = offset_change_days(ZoneInfo("Europe/Berlin"), 2026, 2026)
    assert berlin is not None
    assert sorted(d for d in berlin if d.year == 2026) == [date(2026, 3, 29), date(2026, 10, 25)]
    assert offset_change_days(ZoneInfo("Asia/Shanghai"), 2026, 2026) == set()
    assert offset_change_days(timezone(timedelta(hours=8)), 2026, 2026) == frozenset()
    assert offset_change_days(UTC, 2026, 2026) == frozenset()


def test_every_day_with_an_offset_change_is_found():
    zone = ZoneInfo("America/New_York")
    changes = offset_change_days(zone, 2025, 2027)
    day = date(2025, 1, 1)
    while day < date(2028, 1, 1):
        offsets = {zone.utcoffset(datetime.combine(day, time(h))) for h in range(24)}
        assert (len(offsets) > 1) == (day in changes), day
        day += timedelta(days=1)


def test_the_layout_is_kept_per_protocol_object():
    path = next(p for p in shipped_protocol_files() if p.name == "nct03945799.toml")
    first, second = load_protocol(path), load_protocol(path)

    assert layout_for(first) is layout_for(first)
    assert layout_for(second) is not layout_for(first)
    assert layout_for(first).slot_keys[1][:2] == ("C2D1", "C2D2")


def test_visits_are_shared_between_plans_but_a_done_visit_is_the_subjects_own():
    """Visits not yet done are shared objects (they are immutable); recording one for one
    subject must not change what another subject on the same dates sees."""
    protocol = load_protocol(
        next(p for p in shipped_protocol_files() if p.name == "nct03945799.toml")
    )
    zone = ZoneInfo("Asia/Shanghai")
    first, second = (
        Anchors(subject=name, c1d1=date(2026, 3, 2), surgery=date(2026, 1, 20), time_zone=zone)
        for name in ("SHARE-1", "SHARE-2")
    )
    today = date(2026, 3, 23)
    done = History(visits=(VisitDone(id=7, code="C2D1", on=date(2026, 3, 23)),))

    plain = build_plan(protocol, first, History(), today)
    recorded = build_plan(protocol, second, done, today)
    again = build_plan(protocol, first, History(), today)

    assert plain.visit("C2D1").status == "due"
    assert recorded.visit("C2D1").status == "done"
    assert recorded.visit("C2D1").record_id == 7
    assert again.visit("C2D1").status == "due"
    assert again.visits == plain.visits
    assert all(a is b for a, b in zip(again.visits, plain.visits, strict=True))
    reference = VisitPlan(
        code="C2D1",
        name="Cycle 2 Day 1",
        anchor="cycle",
        cycle=2,
        target=date(2026, 3, 23),
        window_start=date(2026, 3, 20),
        window_end=date(2026, 3, 26),
        status="due",
        tentative=False,
        dispense=True,
        procedures=("labs", "TSH/FT4", "blood pressure", "AE review", "pill count", "dispense"),
        bring="dosing diary, blood pressure log, all capsules and empty bottles",
    )
    assert plain.visit("C2D1") == reference
    assert repr(plain.visit("C2D1")) == repr(reference)
