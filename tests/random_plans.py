"""The one hypothesis strategy for random histories, shared by every property test that needs
a plan: the core's invariants (tests/core/test_plan_properties.py), the feeds
(tests/ical_feeds/test_feed_properties.py) and the pictures (swimmer plot and timeline).

Histories are built one event at a time: an event the core refuses (InputError) is discarded, as
the service layer would refuse to store it, so every history here is one that could have been
recorded. Events are biased towards ones that make sense (a resumption some days after the last
hold, doses recorded on slots the plan shows as due, day-1 checks around a cycle's day 1) so that
most of them are kept and bite. A test narrows the strategy with parameters (which protocols and
time zones, which kinds of event, how many), never with a copy of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from scheduler.core import (
    Anchors,
    Day1Assessment,
    DoseOutcome,
    History,
    HoldEnd,
    HoldStart,
    Plan,
    ToxicityReport,
    TreatmentStop,
    build_plan,
)
from scheduler.errors import InputError
from scheduler.protocols import Protocol, load_protocol, shipped_protocol_files

PROTOCOLS = tuple(load_protocol(path) for path in shipped_protocol_files())
ANLOTINIB = load_protocol(next(p for p in shipped_protocol_files() if p.name == "nct03945799.toml"))
ZONES = tuple(ZoneInfo(key) for key in ("Asia/Shanghai", "Europe/Berlin", "America/New_York"))
TERMS = ("hypertension", "hemorrhage", "neutrophil count decreased", "fatigue", "proteinuria")
REASONS = ("relapse", "toxicity", "withdrawal", "death", "investigator", "other")
EVENT_KINDS = ("hold", "resume", "record_due", "dose", "discontinue", "day1", "ae")


def events(
    protocol: Protocol, horizon: int, kinds: Sequence[str] = EVENT_KINDS
) -> st.SearchStrategy[tuple]:
    """One event of the given kinds; offsets are days from C1D1, -5 up to ``horizon``."""
    levels = [None, *(level.dose_mg for level in protocol.dose_levels)]
    offset = st.integers(-5, horizon)
    every = {
        "hold": st.tuples(st.just("hold"), offset),
        "resume": st.tuples(st.just("resume"), st.integers(1, 30), st.sampled_from(levels)),
        "record_due": st.tuples(st.just("record_due"), st.randoms(use_true_random=False)),
        "dose": st.tuples(
            st.just("dose"),
            offset,
            st.booleans(),
            st.none() | st.times(),
            st.integers(1, protocol.schedule.administrations_per_day + 1),
        ),
        "discontinue": st.tuples(st.just("discontinue"), offset, st.sampled_from(REASONS)),
        "day1": st.tuples(
            st.just("day1"),
            st.none() | st.integers(1, protocol.schedule.cycles),
            st.integers(-10, 30),
            st.booleans(),
        ),
        "ae": st.tuples(
            st.just("ae"),
            offset,
            st.sampled_from(TERMS),
            st.integers(1, 5),
            st.booleans(),
            st.booleans(),
        ),
    }
    return st.one_of(*(every[kind] for kind in kinds))


def apply_event(
    event: tuple, plan: Plan, history: History, n: int, *, taken_times: bool = True
) -> History:
    """``history`` with ``event`` added (it may still be refused by the core). With
    ``taken_times`` false, doses recorded as due carry no time taken (nothing is late)."""
    c1d1 = plan.anchors.c1d1
    kind = event[0]
    if kind == "hold":
        on = c1d1 + timedelta(days=event[1])
        return replace(history, holds=(*history.holds, HoldStart(id=n, on=on, reason="tox")))
    if kind == "resume":
        last = max((h.on for h in history.holds), default=c1d1)
        resumption = HoldEnd(id=n, on=last + timedelta(days=event[1]), dose_mg=event[2])
        return replace(history, resumptions=(*history.resumptions, resumption))
    if kind == "record_due":
        rnd = event[1]
        due = [s for s in plan.doses() if s.status == "planned" and s.date <= plan.today]
        chosen = [s for s in due if rnd.random() < 0.8]
        records = []
        for index, s in enumerate(chosen):
            if rnd.random() < 0.15:
                records.append(
                    DoseOutcome(id=n * 1000 + index, on=s.date, taken=False, slot=s.slot)
                )
            elif not taken_times:
                records.append(DoseOutcome(id=n * 1000 + index, on=s.date, taken=True, slot=s.slot))
            else:
                hour = min(23, s.time.hour + rnd.choice([0, 0, 0, 1, 3, 13]))
                at = time(hour, rnd.randrange(60))
                records.append(
                    DoseOutcome(
                        id=n * 1000 + index, on=s.date, taken=True, slot=s.slot, taken_at=at
                    )
                )
        return replace(history, doses=(*history.doses, *records))
    if kind == "dose":
        on = c1d1 + timedelta(days=event[1])
        record = DoseOutcome(id=n, on=on, taken=event[2], taken_at=event[3], slot=event[4])
        return replace(history, doses=(*history.doses, record))
    if kind == "day1":
        _, number, offset, met = event
        if number is None:  # the cycle that waits, else the next to start: checks that bite
            waiting = plan.waiting_for_criteria()
            upcoming = [c.number for c in plan.cycles if c.day1 >= plan.today]
            number = waiting.cycle if waiting else (upcoming or [len(plan.cycles)])[0]
        on = plan.cycles[number - 1].day1 + timedelta(days=offset)
        check = Day1Assessment(id=n, cycle=number, on=on, met=met)
        return replace(history, day1_assessments=(*history.day1_assessments, check))
    if kind == "discontinue":
        stop = TreatmentStop(id=n, on=c1d1 + timedelta(days=event[1]), reason=event[2])
        return replace(history, discontinuation=stop)
    _, offset, term, grade, related, intolerable = event
    ae = ToxicityReport(
        id=n,
        term=term,
        grade=grade,
        onset=c1d1 + timedelta(days=offset),
        related=related,
        intolerable=intolerable,
    )
    return replace(history, adverse_events=(*history.adverse_events, ae))


@st.composite
def random_histories(
    draw: st.DrawFn,
    protocols: Sequence[Protocol] = PROTOCOLS,
    *,
    zones: Sequence[ZoneInfo] = ZONES,
    kinds: Sequence[str] = EVENT_KINDS,
    max_events: int = 16,
    taken_times: bool = True,
    anchors: Anchors | None = None,
    today_offsets: tuple[int, int] | None = None,
) -> tuple[Protocol, Anchors, History, date]:
    """A protocol, a subject's anchors, a history the core accepts, and today: up to
    ``max_events`` events of ``kinds``. ``anchors`` fixes the subject (else drawn: C1D1 in
    2025-2027, surgery 14-90 days before, a zone of ``zones``, a dose time 06:00-10:45);
    ``today_offsets`` bounds today in days from C1D1 (else 20 days before up to 30 days past
    the last cycle)."""
    protocol = draw(st.sampled_from(protocols))
    schedule = protocol.schedule
    if anchors is None:
        c1d1 = draw(st.dates(date(2025, 1, 1), date(2027, 12, 31)))
        anchors = Anchors(
            subject="P-1",
            c1d1=c1d1,
            surgery=c1d1 - timedelta(days=draw(st.integers(14, 90))),
            time_zone=draw(st.sampled_from(zones)),
            dose_time=time(draw(st.integers(6, 10)), draw(st.sampled_from([0, 15, 30, 45]))),
        )
    horizon = schedule.cycles * schedule.cycle_length_days + 30
    low, high = today_offsets or (-20, horizon)
    today = anchors.c1d1 + timedelta(days=draw(st.integers(low, high)))
    history = History()
    plan = build_plan(protocol, anchors, history, today)
    for n in range(1, draw(st.integers(0, max_events)) + 1):
        event = draw(events(protocol, horizon, kinds))
        candidate = apply_event(event, plan, history, n, taken_times=taken_times)
        try:
            plan = build_plan(protocol, anchors, candidate, today)
        except InputError:
            continue
        history = candidate
    return protocol, anchors, history, today


PICTURE_ANCHORS = Anchors(
    subject="P-1",
    c1d1=date(2026, 1, 5),
    surgery=date(2026, 1, 5) - timedelta(days=35),
    time_zone=ZoneInfo("Asia/Shanghai"),
    dose_time=time(8, 0),
)


def planned_histories(protocol: Protocol = ANLOTINIB) -> st.SearchStrategy[tuple[Plan, date]]:
    """For the pictures: one anlotinib subject, a plan with holds, resumptions at any level,
    doses taken or missed and perhaps a discontinuation, and today (10 days before C1D1 up to
    200 days after)."""
    return random_histories(
        [protocol],
        kinds=("hold", "resume", "dose", "discontinue"),
        max_events=12,
        anchors=PICTURE_ANCHORS,
        today_offsets=(-10, 200),
    ).map(lambda drawn: (build_plan(*drawn), drawn[3]))
