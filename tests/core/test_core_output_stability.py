"""The dose slots ``build_plan`` makes through its shortcuts equal those of the plain way.

``SlotBuilder`` shares date objects between plans, fills slots in line, keeps one memo of
lateness verdicts per scheduled time and skips the per-slot checks for cycles with nothing in
them. The reference here does none of that: it walks every dosing day of every cycle the plan
laid out, applies the rules of DOMAIN.md in their plainest form (the latest record of a slot
counts; a discontinuation cancels, a hold holds; lateness is real elapsed time through
``local_instant``), and builds each slot with the dataclass's own constructor.

Subjects are random but seeded (so the test is deterministic), and lean on what the shortcuts
skip: DST days with dose times in the spring gap or the autumn fold, records without a time,
corrections, twice-daily dosing, reduced resumptions, open holds and discontinuations.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

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
from scheduler.core.dosing_days import DoseSlot, DoseStatus, slot_times
from scheduler.core.holds import hold_covering
from scheduler.core.outputs import TAKEN
from scheduler.core.times import minutes_between
from scheduler.errors import InputError
from scheduler.protocols import Protocol, load_protocol, shipped_protocol_files

PROTOCOLS = tuple(load_protocol(path) for path in shipped_protocol_files())
ZONES = (
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),
    ZoneInfo("Asia/Shanghai"),
    UTC,
    timezone(timedelta(hours=-3)),
)
DOSE_TIMES = (time(8), time(2, 30), time(1, 30), time(7, 45), time(9, 15))
DST_DAYS = (
    (ZoneInfo("Europe/Berlin"), date(2026, 3, 29)),
    (ZoneInfo("Europe/Berlin"), date(2026, 10, 25)),
    (ZoneInfo("America/New_York"), date(2026, 3, 8)),
    (ZoneInfo("America/New_York"), date(2026, 11, 1)),
    (ZoneInfo("Australia/Lord_Howe"), date(2026, 4, 5)),
)
SUBJECTS = 240


def _dose_on(plan: Plan, day: date) -> float:
    """The starting dose, replaced from each resumption at a reduced level onwards."""
    dose = plan.protocol.starting_dose_mg
    for period in sorted(plan.holds, key=lambda p: p.start):
        if period.end is not None and period.resume_dose_mg is not None and period.end <= day:
            dose = period.resume_dose_mg
    return dose


def _judged(plan: Plan, on: date, at: time, record: DoseOutcome) -> tuple[DoseStatus, int | None]:
    if not record.taken:
        return "missed", None
    if record.taken_at is None:
        return "taken", None
    late = minutes_between(on, at, record.taken_at, plan.anchors.time_zone)
    limits = plan.protocol.limits
    if late <= limits.on_time_minutes:
        return "taken", max(late, 0)
    if late <= limits.late_dose_hours * 60:
        return "late", late
    return "taken_outside_window", late


def reference_slots(plan: Plan, history: History) -> list[DoseSlot]:
    schedule = plan.protocol.schedule
    times = slot_times(plan.protocol, plan.anchors.dose_time)
    latest = {(record.on, record.slot): record for record in history.doses}
    stop = history.discontinuation
    stopped_on_hold = any(period.ended_by_discontinuation for period in plan.holds)
    slots = []
    for cycle in plan.cycles:
        for day in schedule.dosing_days:
            on = cycle.day1 + timedelta(days=day - 1)
            for slot, at in enumerate(times, start=1):
                key = f"C{cycle.number}D{day}" + (f"S{slot}" if len(times) > 1 else "")
                record = latest.get((on, slot))
                status: DoseStatus = "planned"
                late = None
                counted = None
                if stop is not None and on >= stop.on:
                    cancelled = record is None or on > stop.on or stopped_on_hold
                else:
                    cancelled = False
                if cancelled:
                    status = "cancelled"
                elif hold_covering(plan.holds, on) is not None:
                    status = "held"
                elif record is not None:
                    status, late = _judged(plan, on, at, record)
                    counted = record
                slots.append(
                    DoseSlot(
                        key=key,
                        cycle=cycle.number,
                        day=day,
                        slot=slot,
                        date=on,
                        time=at,
                        dose_mg=_dose_on(plan, on),
                        status=status,
                        tentative=cycle.tentative,
                        taken_at=counted.taken_at if counted else None,
                        record_id=counted.id if counted else None,
                        late_minutes=late,
                    )
                )
    return slots


def _records(rnd: random.Random, plan: Plan, n: int) -> tuple[DoseOutcome, ...]:
    """Records for most slots due by today: on time, late, far too late, untimed or missed."""
    records = []
    for index, slot in enumerate(plan.doses()):
        if slot.status != "planned" or slot.date > plan.today or rnd.random() < 0.2:
            continue
        record_id = n * 1000 + index
        if rnd.random() < 0.1:
            records.append(DoseOutcome(id=record_id, on=slot.date, taken=False, slot=slot.slot))
            continue
        taken_at: time | None = None
        if rnd.random() < 0.9:
            hour = min(23, slot.time.hour + rnd.choice((0, 0, 0, 1, 2, 5, 13)))
            # Few distinct times, so that memoised verdicts meet records on DST days.
            taken_at = time(hour, rnd.choice((0, 30, 30, 45)), rnd.choice((0, 0, 0, 30)))
        records.append(
            DoseOutcome(id=record_id, on=slot.date, taken=True, slot=slot.slot, taken_at=taken_at)
        )
    if records and rnd.random() < 0.3:  # a correction: the latest record of a slot counts
        corrected = rnd.choice(records)
        records.append(replace(corrected, id=n * 1000 + 999, taken=not corrected.taken))
    return tuple(records)


def _subject(rnd: random.Random, number: int) -> tuple[Protocol, Anchors, History, date]:
    protocol = rnd.choice(PROTOCOLS)
    schedule = protocol.schedule
    c1d1 = date(2025, 1, 1) + timedelta(days=rnd.randrange(1100))
    zone, dose_time = rnd.choice(ZONES), rnd.choice(DOSE_TIMES)
    if rnd.random() < 0.3:  # dosing before and after the clocks change, around the change
        zone, change = rnd.choice(DST_DAYS)
        c1d1 = change - timedelta(days=rnd.randrange(10))
        dose_time = rnd.choice((time(1, 30), time(2, 30), time(1)))
    anchors = Anchors(
        subject=f"R-{number}",
        c1d1=c1d1,
        surgery=c1d1 - timedelta(days=rnd.randrange(14, 90)),
        time_zone=zone,
        dose_time=dose_time,
    )
    span = schedule.cycles * schedule.cycle_length_days
    today = c1d1 + timedelta(days=rnd.randrange(-10, span + 30))
    levels = [None, *(level.dose_mg for level in protocol.dose_levels)]
    history = History()
    for n in range(1, rnd.randrange(1, 10)):
        kind = rnd.random()
        if kind < 0.25:
            start = c1d1 + timedelta(days=rnd.randrange(span))
            candidate = replace(
                history, holds=(*history.holds, HoldStart(id=n, on=start, reason="toxicity"))
            )
        elif kind < 0.5:
            last = max((hold.on for hold in history.holds), default=c1d1)
            resumption = HoldEnd(
                id=n, on=last + timedelta(days=rnd.randrange(1, 30)), dose_mg=rnd.choice(levels)
            )
            candidate = replace(history, resumptions=(*history.resumptions, resumption))
        elif kind < 0.6:
            stop = c1d1 + timedelta(days=rnd.randrange(span))
            reason = rnd.choice(("relapse", "toxicity", "death"))
            stopped = TreatmentStop(id=n, on=stop, reason=reason)
            candidate = replace(history, discontinuation=stopped)
        else:
            plan = build_plan(protocol, anchors, history, today)
            candidate = replace(history, doses=(*history.doses, *_records(rnd, plan, n)))
        try:
            build_plan(protocol, anchors, candidate, today)
        except InputError:
            continue
        history = candidate
    return protocol, anchors, history, today


def _subjects() -> list[tuple[Protocol, Anchors, History, date]]:
    rnd = random.Random(20260302)
    subjects = []
    while len(subjects) < SUBJECTS:
        try:
            subjects.append(_subject(rnd, len(subjects)))
        except InputError:
            continue  # a dose time past midnight for a twice-daily regimen, say
    return subjects


@pytest.fixture(scope="module")
def subjects() -> list[tuple[Protocol, Anchors, History, date]]:
    return _subjects()


def test_the_subjects_exercise_what_the_shortcuts_skip(subjects):
    plans = [build_plan(*subject) for subject in subjects]
    statuses = {slot.status for plan in plans for slot in plan.doses()}
    assert statuses == {
        "planned", "taken", "late", "taken_outside_window", "missed", "held", "cancelled"
    }  # fmt: skip
    assert any(plan.protocol.schedule.administrations_per_day > 1 for plan in plans)
    assert any(any(c.tentative for c in plan.cycles) for plan in plans)
    assert any(len({s.dose_mg for s in plan.doses()}) > 1 for plan in plans)
    assert any(s.taken_at is None and s.record_id for plan in plans for s in plan.doses())


def test_every_slot_equals_the_plain_reference(subjects):
    for protocol, anchors, history, today in subjects:
        plan = build_plan(protocol, anchors, history, today)
        expected = reference_slots(plan, history)
        slots = list(plan.doses())
        assert slots == expected, anchors
        assert [repr(s) for s in slots] == [repr(s) for s in expected], anchors
        assert all(type(s) is DoseSlot for s in slots)
        taken = [s.date for s in expected if s.status in TAKEN]
        assert plan.last_dose_taken == max(taken, default=None), anchors


def test_a_plan_built_twice_is_the_same_plan(subjects):
    for protocol, anchors, history, today in subjects[:40]:
        assert build_plan(protocol, anchors, history, today) == build_plan(
            protocol, anchors, history, today
        )
