"""Feeds rendered from real plans, read back by icalendar, ical.js and khal.

Each subject lives in one of the four test zones, with a history that moves the plan (holds,
delayed cycles, dose reductions, discontinuation) and dose times around DST changes: in a
spring-forward gap, in an autumn fold, and at 08:00 on both sides. What every consumer shows
must be what the plan says: the start as zoneinfo computes it from the subject's local date and
dose time (fold=0), the end, STATUS CANCELLED for held and cancelled items, and alarms only on
doses still to take and visits still to come.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from ical_consumers import (
    CONSUMERS,
    Consumer,
    ConsumerError,
    FeedConsumers,
    FeedView,
    check_titles,
    planned_events,
    seen,
    untitled,
)

import calendars
from scheduler.core import (
    Anchors,
    DoseOutcome,
    History,
    HoldEnd,
    HoldStart,
    Plan,
    TreatmentStop,
    build_plan,
)
from scheduler.protocols import Protocol

OPTIONS = calendars.FeedOptions()


@dataclass(frozen=True)
class Scenario:
    protocol: str
    zone: str
    c1d1: date
    dose_time: time
    today: date
    history: History = field(default_factory=History)


def _taken(first_id: int, days: list[date], at: time) -> tuple[DoseOutcome, ...]:
    return tuple(
        DoseOutcome(id=first_id + n, on=day, taken=True, taken_at=at) for n, day in enumerate(days)
    )


SCENARIOS = {
    # Cycle 3 delayed by a hold over its day 1, resumed a week late at 10 mg; a missed dose.
    "shanghai_hold_delay_reduction": Scenario(
        "anlotinib",
        "Asia/Shanghai",
        date(2026, 3, 2),
        time(8, 0),
        date(2026, 5, 20),
        History(
            doses=(
                *_taken(1, [date(2026, 3, 2) + timedelta(days=n) for n in range(5)], time(8, 10)),
                DoseOutcome(id=9, on=date(2026, 3, 7), taken=False),
            ),
            holds=(HoldStart(id=20, on=date(2026, 4, 8), reason="grade 3 hypertension"),),
            resumptions=(HoldEnd(id=21, on=date(2026, 4, 20), dose_mg=10),),
        ),
    ),
    # 02:30 does not exist on 2026-03-08 (C1 D7); an open hold from C2 D3 makes later
    # cycles tentative.
    "new_york_gap_open_hold": Scenario(
        "anlotinib",
        "America/New_York",
        date(2026, 3, 2),
        time(2, 30),
        date(2026, 3, 30),
        History(holds=(HoldStart(id=1, on=date(2026, 3, 25), reason="fatigue"),)),
    ),
    # 01:30 happens twice on 2026-11-01 (C1 D7); 08:00 around the change for the visits.
    "new_york_fold": Scenario(
        "anlotinib", "America/New_York", date(2026, 10, 26), time(1, 30), date(2026, 10, 26)
    ),
    # Twice daily at 02:30 and 14:30: 02:30 is in the 2026-03-29 gap (C1 D7); discontinued
    # for toxicity on C2 D10, which cancels what is left.
    "berlin_gap_twice_daily_discontinued": Scenario(
        "capecitabine",
        "Europe/Berlin",
        date(2026, 3, 23),
        time(2, 30),
        date(2026, 4, 30),
        History(discontinuation=TreatmentStop(id=1, on=date(2026, 4, 22), reason="toxicity")),
    ),
    # 02:30 happens twice on 2026-10-25 (C1 D7).
    "berlin_fold": Scenario(
        "anlotinib", "Europe/Berlin", date(2026, 10, 19), time(2, 30), date(2026, 10, 19)
    ),
    # Southern hemisphere: 02:30 is in the 2026-10-04 gap (C1 D7); hold and resume at 10 mg.
    "sydney_gap_hold_reduction": Scenario(
        "anlotinib",
        "Australia/Sydney",
        date(2026, 9, 28),
        time(2, 30),
        date(2026, 11, 30),
        History(
            holds=(HoldStart(id=1, on=date(2026, 10, 14), reason="proteinuria"),),
            resumptions=(HoldEnd(id=2, on=date(2026, 10, 21), dose_mg=10),),
        ),
    ),
    # 02:30 happens twice on 2026-04-05 (C1 D7), the end of Sydney's summer time.
    "sydney_fold": Scenario(
        "anlotinib", "Australia/Sydney", date(2026, 3, 30), time(2, 30), date(2026, 3, 30)
    ),
    # 08:00 on both sides of every change, discontinued after relapse in cycle 5.
    "sydney_0800_discontinued": Scenario(
        "capecitabine",
        "Australia/Sydney",
        date(2026, 3, 16),
        time(8, 0),
        date(2026, 8, 1),
        History(discontinuation=TreatmentStop(id=1, on=date(2026, 6, 30), reason="relapse")),
    ),
}
FOLDS = {"new_york_fold", "berlin_fold", "sydney_fold"}


@dataclass(frozen=True)
class Rendered:
    plan: Plan
    feed: bytes
    identities: dict[calendars.ItemKey, calendars.Identity]
    window: tuple[date, date]


def _render(name: str, protocols: dict[str, Protocol]) -> Rendered:
    scenario = SCENARIOS[name]
    anchors = Anchors(
        subject=f"S-{name[:6].upper()}",
        c1d1=scenario.c1d1,
        surgery=scenario.c1d1 - timedelta(days=30),
        time_zone=ZoneInfo(scenario.zone),
        dose_time=scenario.dose_time,
    )
    plan = build_plan(protocols[scenario.protocol], anchors, scenario.history, scenario.today)
    items = calendars.patient_items(plan, OPTIONS)
    revised = datetime.combine(scenario.today, time(4, 0), tzinfo=UTC)
    identities = calendars.assign_identities(items, {}, revised)
    feed = calendars.render_patient_feed(plan, identities, OPTIONS, scenario.today)
    days = [s.date for s in plan.doses()] + [v.actual or v.target for v in plan.visits]
    return Rendered(
        plan, feed, identities, (min(days) - timedelta(days=2), max(days) + timedelta(days=2))
    )


@pytest.fixture(scope="module")
def rendered(anlotinib, capecitabine) -> dict[str, Rendered]:
    protocols = {"anlotinib": anlotinib, "capecitabine": capecitabine}
    return {name: _render(name, protocols) for name in SCENARIOS}


@pytest.fixture(scope="module")
def views(
    rendered: dict[str, Rendered], feed_consumers: FeedConsumers
) -> dict[str, dict[Consumer, FeedView | ConsumerError]]:
    names = list(rendered)
    window = (
        min(r.window[0] for r in rendered.values()),
        max(r.window[1] for r in rendered.values()),
    )
    read = feed_consumers.read([rendered[n].feed for n in names], window)
    return dict(zip(names, read, strict=True))


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.name)
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_consumer_shows_exactly_the_plan(rendered, views, consumer, name):
    planned = planned_events(rendered[name].plan, rendered[name].identities, OPTIONS)
    shown = seen(views[name][consumer])

    assert untitled(shown.events) == untitled(e.view.seen_by(consumer) for e in planned)
    if "uid" in consumer.reports:
        check_titles(planned, shown)
    else:  # khal shows no UID: its titles are those a UID-keeping consumer shows
        readable = [v for v in views[name].values() if isinstance(v, FeedView) and v is not shown]
        assert sorted(e.summary for e in shown.events) == sorted(
            e.summary for e in readable[0].events
        )


def test_the_scenarios_put_doses_in_gaps_and_folds_and_move_the_plan(rendered):
    kinds: dict[str, set[str]] = {}
    for name, r in rendered.items():
        zone = r.plan.anchors.time_zone
        for slot in r.plan.doses():
            local = datetime.combine(slot.date, slot.time)
            first, second = (local.replace(tzinfo=zone, fold=f).utcoffset() for f in (0, 1))
            if first != second:
                round_trip = local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
                kind = "fold" if round_trip.replace(tzinfo=None) == local else "gap"
                kinds.setdefault(kind, set()).add(name)
    statuses = {s.status for r in rendered.values() for s in r.plan.doses()}

    assert {n for n in SCENARIOS if "gap" in n} <= kinds["gap"]
    assert kinds["fold"] >= FOLDS
    assert {"planned", "taken", "missed", "held", "cancelled"} <= statuses
    assert any(s.tentative for r in rendered.values() for s in r.plan.doses())
    assert any(c.delay_days > 0 for r in rendered.values() for c in r.plan.cycles)
    assert {s.dose_mg for s in rendered["sydney_gap_hold_reduction"].plan.doses()} == {10, 12}


def test_a_patient_feed_names_no_subject_and_no_drug(rendered):
    for r in rendered.values():
        text = r.feed.decode().lower()
        assert r.plan.subject.lower() not in text
        assert r.plan.protocol.drug.name.lower() not in text
        assert not re.search(r"^METHOD:", r.feed.decode(), re.MULTILINE)
