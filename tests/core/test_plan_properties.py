"""Invariants of ``build_plan`` over random event histories (tests/random_plans.py: events the
core refuses are discarded, so every history is one that could have been recorded).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from random_plans import random_histories

from scheduler.core import (
    Anchors,
    History,
    build_plan,
    plan_to_json,
)
from scheduler.core.holds import hold_covering
from scheduler.errors import InputError
from scheduler.protocols import Protocol

ACTIVE = ("planned", "taken", "late")


def subjects() -> st.SearchStrategy[tuple[Protocol, Anchors, History, date]]:
    """Every shipped protocol, every kind of event, up to 16 of them."""
    return random_histories()


PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(subjects())
def test_no_dose_to_take_falls_on_a_rest_day_or_in_a_hold(subject):
    protocol, anchors, history, today = subject
    plan = build_plan(protocol, anchors, history, today)
    dosing_days = set(protocol.schedule.dosing_days)
    stop = history.discontinuation
    waiting = plan.waiting_for_criteria()

    for cycle in plan.cycles:
        waits = waiting is not None and cycle.number >= waiting.cycle
        for slot in cycle.doses:
            assert slot.date == cycle.day1 + timedelta(days=slot.day - 1)
            assert slot.day in dosing_days
            if slot.status in ACTIVE:
                assert hold_covering(plan.holds, slot.date) is None
                assert stop is None or slot.date <= stop.on
                assert not waits
            if slot.status == "held":
                assert hold_covering(plan.holds, slot.date) is not None or waits


@PROPERTY_SETTINGS
@given(subjects())
def test_cycle_day_1_dates_increase_at_least_a_cycle_length_apart(subject):
    protocol, anchors, history, today = subject
    plan = build_plan(protocol, anchors, history, today)
    length = timedelta(days=protocol.schedule.cycle_length_days)

    assert plan.cycles[0].nominal_day1 == anchors.c1d1
    assert plan.cycles[0].day1 >= anchors.c1d1
    for before, after in itertools.pairwise(plan.cycles):
        assert after.day1 - before.day1 >= length
        assert before.end == after.day1 - timedelta(days=1)
        assert after.delay_days >= 0


@PROPERTY_SETTINGS
@given(subjects())
def test_the_dose_level_never_increases_over_time(subject):
    protocol, anchors, history, today = subject
    plan = build_plan(protocol, anchors, history, today)
    levels = {level.dose_mg for level in protocol.dose_levels}

    doses = [s.dose_mg for s in sorted(plan.doses(), key=lambda s: (s.date, s.slot))]
    assert set(doses) <= levels
    assert all(b <= a for a, b in itertools.pairwise(doses))
    assert all(b.dose_mg <= a.dose_mg for a, b in itertools.pairwise(plan.cycles))


@PROPERTY_SETTINGS
@given(subjects())
def test_the_number_of_doses_never_exceeds_cycles_x_dosing_days_x_administrations(subject):
    protocol, anchors, history, today = subject
    plan = build_plan(protocol, anchors, history, today)
    schedule = protocol.schedule
    most = schedule.cycles * len(schedule.dosing_days) * schedule.administrations_per_day

    slots = list(plan.doses())
    assert len(slots) == most  # every slot is shown, whatever its status
    assert len([s for s in slots if s.status in ACTIVE]) <= most
    assert len({s.key for s in slots}) == most


@PROPERTY_SETTINGS
@given(subjects())
def test_every_visit_window_contains_its_target(subject):
    protocol, anchors, history, today = subject
    plan = build_plan(protocol, anchors, history, today)

    for visit in plan.visits:
        assert visit.window_start <= visit.target <= visit.window_end
        assert visit.in_window(visit.target)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subjects())
def test_dose_records_never_move_a_cycle_and_the_json_is_stable(subject):
    protocol, anchors, history, today = subject
    plan = build_plan(protocol, anchors, history, today)
    without_doses = build_plan(protocol, anchors, replace(history, doses=()), today)

    assert [c.day1 for c in plan.cycles] == [c.day1 for c in without_doses.cycles]
    assert plan_to_json(plan) == plan_to_json(build_plan(protocol, anchors, history, today))


def _unmet_then_met(history: History, number: int) -> tuple[date, date | None] | None:
    """The last day cycle ``number`` was found unmet and the first later day it was found met,
    read as DOMAIN.md says (of two checks on one day, the later record counts)."""
    by_day: dict[date, bool] = {}
    for check in history.day1_assessments:
        if check.cycle == number:
            by_day[check.on] = check.met
    unmet = [day for day, met in by_day.items() if not met]
    if not unmet:
        return None
    return max(unmet), min((day for day in by_day if day > max(unmet)), default=None)


@PROPERTY_SETTINGS
@given(subjects())
def test_no_cycle_starts_before_its_day_1_criteria_are_met(subject):
    protocol, anchors, history, today = subject
    plan = build_plan(protocol, anchors, history, today)
    without_checks = replace(history, day1_assessments=())
    stop = history.discontinuation

    first_moved = None
    for cycle in plan.cycles:
        found = _unmet_then_met(history, cycle.number)
        if found is None:
            continue
        first_moved = first_moved or cycle.number
        unmet_on, met_on = found
        if met_on is not None:
            assert cycle.day1 >= met_on and not plan.criteria_delay(cycle.number).waiting
        elif stop is None:
            # Open: never assumed to end; laid out from tomorrow at the earliest, no dose of
            # it or of any later cycle to take.
            assert cycle.tentative and cycle.day1 > max(today, unmet_on)
            assert plan.waiting_for_criteria() is not None
            later = [s for c in plan.cycles[cycle.number - 1 :] for s in c.doses]
            assert not any(s.status in ACTIVE for s in later)
            break
        else:
            assert cycle.status == "cancelled"
    # Checks move nothing before the first cycle found unmet, and "met" alone moves nothing.
    unmoved = plan.cycles if first_moved is None else plan.cycles[: first_moved - 1]
    try:
        plain = build_plan(protocol, anchors, without_checks, today)
    except InputError:
        # Doses recorded in a delayed cycle fall on rest days of the cycles as first planned.
        assert first_moved is not None
        return
    assert [c.day1 for c in unmoved] == [c.day1 for c in plain.cycles[: len(unmoved)]]
