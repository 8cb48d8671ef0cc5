"""One subject's subscription, step by step, as two kinds of calendar client see it.

The nurse enrolls a subject in New York, holds dosing for toxicity, resumes a week later (so
cycle 2 starts late), holds again and resumes at a reduced dose, then discontinues; a last
fetch comes after the 30 days for which cancelled events stay. Each step goes through the real
service layer and the feed is fetched as a client would. Two clients poll it:

- ``ReplacingClient`` throws its copy away and keeps whatever the latest fetch says;
- ``MergingClient`` keeps its copy and merges by UID: it takes an incoming event only when its
  SEQUENCE is higher, or equal with a newer DTSTAMP, and deletes UIDs that disappear.

After every fetch both must show exactly what the plan says, and no UID's SEQUENCE ever goes
down. A merging client that keeps a stale event is what an unbumped SEQUENCE would cause.
Every step's feed is then read by icalendar, ical.js and khal, and each must show that plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from ical_consumers import (
    CONSUMERS,
    EventView,
    FeedView,
    canonical,
    planned_events,
    read_with_icalendar,
    seen,
    untitled,
)
from sqlmodel import Session

from scheduler.clock import FixedClock
from scheduler.core import Plan
from scheduler.db import get_engine
from scheduler.feeds.identities import feed_options, stored_identities
from scheduler.feeds.serving import fetch_feed
from scheduler.feeds.tokens import PATIENT, issue_feed
from scheduler.kernel.sites import get_site
from scheduler.kernel.subject_state import get_subject, plan_for
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import discontinue, hold, resume

CODE = "SIM-001"
ZONE = "America/New_York"
WINDOW = (date(2026, 1, 1), date(2027, 6, 30))


@dataclass
class ReplacingClient:
    """Keeps exactly what the last fetch said."""

    events: dict[str, EventView] = field(default_factory=dict)

    def fetch(self, feed: FeedView) -> None:
        self.events = {event.uid or "": event for event in feed.events}


@dataclass
class MergingClient:
    """Merges by UID and SEQUENCE, as RFC 5546 clients do: an event with the SEQUENCE it
    already has is not taken as a change (so a visible change whose SEQUENCE did not rise
    stays stale here, and the comparison with the plan fails); deletes UIDs that disappear."""

    events: dict[str, EventView] = field(default_factory=dict)

    def fetch(self, feed: FeedView) -> None:
        incoming = {event.uid or "": event for event in feed.events}
        kept = {}
        for uid, event in incoming.items():
            old = self.events.get(uid)
            if old is None or _newer(event, old):
                kept[uid] = event
            else:
                kept[uid] = old
        self.events = kept


def _newer(event: EventView, old: EventView) -> bool:
    assert event.sequence is not None and old.sequence is not None
    return event.sequence > old.sequence


def _at(day: date, hour: int = 15) -> datetime:
    """Mid-morning in New York on ``day``, in UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


Step = Callable[[object], object]
STEPS: list[tuple[str, datetime, Step]] = [
    (
        "enrolled",
        _at(date(2026, 2, 20)),
        lambda unit: enroll(
            unit, CODE, c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1", time_zone=ZONE
        ),
    ),
    (
        "on hold",
        _at(date(2026, 3, 12)),
        lambda unit: hold(unit, CODE, start="2026-03-12", reason="grade 3 hypertension"),
    ),
    (
        "cycle 2 delayed",
        _at(date(2026, 3, 30)),
        lambda unit: resume(
            unit, CODE, on="2026-03-30", reason="investigator continues: blood pressure controlled"
        ),
    ),
    (
        "held again",
        _at(date(2026, 4, 6)),
        lambda unit: hold(unit, CODE, start="2026-04-06", reason="grade 3 proteinuria"),
    ),
    (
        "reduced to 10 mg",
        _at(date(2026, 4, 13)),
        lambda unit: resume(unit, CODE, on="2026-04-13", dose_mg=10, reason="dose level -1"),
    ),
    (
        "discontinued",
        _at(date(2026, 5, 5)),
        lambda unit: discontinue(unit, CODE, on="2026-05-05", reason="toxicity"),
    ),
    ("a month later", _at(date(2026, 6, 10)), lambda unit: None),
]


@dataclass(frozen=True)
class Fetched:
    step: str
    plan: Plan
    feed: bytes
    expected: tuple[EventView, ...]


def _walk(units, db_url: str, settings: Settings) -> Iterator[Fetched]:
    """Every step through the services, each followed by a fetch of the feed at that moment."""
    engine = get_engine(db_url)
    token = ""
    for name, now, action in STEPS:
        with units(now=now) as unit:
            action(unit)
            if not token:
                token = issue_feed(unit, settings, PATIENT, CODE).token
        body = fetch_feed(engine, token, FixedClock(now), settings).body
        assert body is not None
        with Session(engine) as session:
            plan = plan_for(session, CODE, now)
            subject = get_subject(session, CODE)
            options = feed_options(settings, get_site(session, "ZJU1"))
            identities = stored_identities(session, PATIENT, {CODE: subject.id or 0})
        expected = canonical(e.view for e in planned_events(plan, identities, options))
        yield Fetched(name, plan, body, expected)


def test_replacing_and_merging_clients_show_the_plan_at_every_step(
    units, db_url, settings, feed_consumers
):
    replacing, merging = ReplacingClient(), MergingClient()
    sequences: dict[str, int] = {}
    previous: dict[str, EventView] = {}
    shown: dict[str, int] = {}
    plans: dict[str, Plan] = {}
    steps: list[Fetched] = []

    for fetched in _walk(units, db_url, settings):
        steps.append(fetched)
        feed = read_with_icalendar(fetched.feed, WINDOW)
        for event in feed.events:
            uid = event.uid or ""
            assert event.sequence is not None
            before = previous.get(uid)
            if before is not None and replace(before, sequence=None, dtstamp=None) != replace(
                event, sequence=None, dtstamp=None
            ):
                assert event.sequence > sequences[uid], ("visible change", fetched.step, event)
            assert event.sequence >= sequences.get(uid, 0), (fetched.step, event)
            sequences[uid], previous[uid] = event.sequence, event
        replacing.fetch(feed)
        merging.fetch(feed)
        shown[fetched.step], plans[fetched.step] = len(feed.events), fetched.plan

        expected = untitled(fetched.expected)
        assert untitled(replacing.events.values()) == expected, fetched.step
        assert untitled(merging.events.values()) == expected, fetched.step
        assert {e.uid: e.summary for e in merging.events.values()} == {
            e.uid: e.summary for e in replacing.events.values()
        }, fetched.step

    assert plans["enrolled"].status == "screening"
    assert plans["on hold"].status == "on_hold"
    assert plans["cycle 2 delayed"].cycles[1].delay_days == 7
    assert plans["reduced to 10 mg"].dose_mg == 10
    assert plans["discontinued"].status == "discontinued"
    assert shown["a month later"] < shown["discontinued"]  # cancelled events dropped out

    # The feed of every step, read by all three independent consumers (ical.js and khal too).
    read = feed_consumers.read([fetched.feed for fetched in steps], WINDOW)
    for fetched, views in zip(steps, read, strict=True):
        for consumer in CONSUMERS:
            view = seen(views[consumer])
            want = untitled(event.seen_by(consumer) for event in fetched.expected)
            assert untitled(view.events) == want, (fetched.step, consumer.name)
