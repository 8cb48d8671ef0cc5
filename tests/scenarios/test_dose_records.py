"""Recording doses: taken, late, missed, and the records the protocol cannot have produced."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from scheduler.core import (
    Anchors,
    DoseOutcome,
    History,
    HoldEnd,
    HoldStart,
    TreatmentStop,
    build_plan,
)
from scheduler.errors import InputError, RuleViolation


def taken(on, at=None, id=1, slot=1):
    return DoseOutcome(id=id, on=on, taken=True, taken_at=at, slot=slot)


def missed(on, id=1):
    return DoseOutcome(id=id, on=on, taken=False)


def slot_for(result, on, slot=1):
    return next(s for s in result.doses() if s.date == on and s.slot == slot)


@pytest.mark.parametrize(
    ("at", "status", "late_minutes"),
    [
        (time(8, 0), "taken", 0),
        (time(7, 40), "taken", 0),  # early counts as on time
        (time(9, 0), "taken", 60),  # within the hour is on time
        (time(9, 1), "late", 61),
        (time(11, 0), "late", 180),
        (time(20, 0), "late", 720),  # up to 12 h late still counts as taken
        (time(20, 1), "taken_outside_window", 721),  # taken: a deviation, never "missed"
        (time(21, 0), "taken_outside_window", 780),
    ],
)
def test_a_dose_taken_at_a_given_time_is_taken_late_or_taken_outside_the_window(
    plan, day, at, status, late_minutes
):
    result = plan(day(1, 3), History(doses=(taken(day(1, 3), at),)))

    dose = slot_for(result, day(1, 3))
    assert (dose.status, dose.late_minutes) == (status, late_minutes)
    assert dose.taken_at == at
    assert dose.record_id == 1


def test_a_dose_taken_3_hours_late_is_late(plan, day):
    dose = slot_for(plan(day(1, 3), History(doses=(taken(day(1, 3), time(11, 0)),))), day(1, 3))

    assert dose.status == "late"


def test_a_dose_taken_13_hours_late_is_taken_outside_the_window(plan, day):
    dose = slot_for(plan(day(1, 3), History(doses=(taken(day(1, 3), time(21, 0)),))), day(1, 3))

    assert dose.status == "taken_outside_window"


def test_a_dose_recorded_taken_without_a_time_is_taken(plan, day):
    dose = slot_for(plan(day(1, 3), History(doses=(taken(day(1, 3)),))), day(1, 3))

    assert (dose.status, dose.late_minutes) == ("taken", None)


def test_lateness_is_real_elapsed_time_across_a_dst_change(anlotinib):
    # Berlin springs forward on 2026-03-29 (C2D7): 01:00 to 13:30 is 12.5 h on the wall clock
    # but only 11.5 h of real time, so the dose is late, not missed.
    berlin = Anchors(
        subject="B-1",
        c1d1=date(2026, 3, 2),
        surgery=date(2026, 1, 20),
        time_zone=ZoneInfo("Europe/Berlin"),
        dose_time=time(1, 0),
    )
    history = History(doses=(taken(date(2026, 3, 29), time(13, 30)),))
    dose = slot_for(build_plan(anlotinib, berlin, history, date(2026, 3, 30)), date(2026, 3, 29))

    assert (dose.status, dose.late_minutes) == ("late", 690)


def test_the_same_clock_times_are_judged_apart_on_either_side_of_a_dst_change(anlotinib):
    # 01:00 to 13:30 is 12.5 h on 2026-03-28 (outside the window) but 11.5 h on 2026-03-29
    # (late).
    berlin = Anchors(
        subject="B-2",
        c1d1=date(2026, 3, 2),
        surgery=date(2026, 1, 20),
        time_zone=ZoneInfo("Europe/Berlin"),
        dose_time=time(1, 0),
    )
    history = History(
        doses=(
            taken(date(2026, 3, 28), time(13, 30), id=1),
            taken(date(2026, 3, 29), time(13, 30), id=2),
            taken(date(2026, 3, 30), time(13, 30), id=3),
        )
    )
    result = build_plan(anlotinib, berlin, history, date(2026, 3, 31))

    judged = [slot_for(result, date(2026, 3, d)) for d in (28, 29, 30)]
    assert [(s.status, s.late_minutes) for s in judged] == [
        ("taken_outside_window", 750),
        ("late", 690),
        ("taken_outside_window", 750),
    ]


def test_the_latest_record_of_a_slot_is_the_one_that_counts(plan, day):
    history = History(doses=(missed(day(1, 3), id=1), taken(day(1, 3), time(8, 5), id=2)))
    dose = slot_for(plan(day(1, 4), history), day(1, 3))

    assert (dose.status, dose.record_id) == ("taken", 2)


def test_missed_doses_are_not_made_up_and_move_nothing(plan, day):
    history = History(
        doses=tuple(missed(day(c, n), id=10 * c + n) for c in (1, 2) for n in (2, 5, 6, 14))
    )
    result = plan(day(3, 1), history)
    plain = plan(day(3, 1))

    assert [s.status for s in result.doses() if s.record_id] == ["missed"] * 8
    assert [(s.key, s.date) for s in result.doses()] == [(s.key, s.date) for s in plain.doses()]
    assert [(c.day1, c.end) for c in result.cycles] == [(c.day1, c.end) for c in plain.cycles]
    assert [(v.code, v.target) for v in result.visits] == [(v.code, v.target) for v in plain.visits]
    assert result.proposals == ()
    assert result.last_dose_taken is None


def test_a_dose_recorded_on_a_rest_day_is_rejected_with_where_the_day_falls(plan, day):
    with pytest.raises(InputError) as caught:
        plan(day(1, 20), History(doses=(taken(day(1, 16)),)))

    assert caught.value.field == "date"
    assert caught.value.reason == "2026-03-17 is C1 D16, a rest day: no dose is planned"


def test_a_dose_recorded_before_cycle_1_day_1_is_rejected(plan):
    with pytest.raises(InputError, match="2026-03-01 is before cycle 1 day 1 \\(2026-03-02\\)"):
        plan(date(2026, 3, 3), History(doses=(taken(date(2026, 3, 1)),)))


def test_a_dose_recorded_after_the_last_cycle_is_rejected(plan):
    with pytest.raises(InputError, match="after the last cycle ended \\(2026-08-16\\)"):
        plan(date(2026, 9, 1), History(doses=(taken(date(2026, 8, 20)),)))


def test_a_dose_recorded_during_a_hold_is_rejected_naming_the_hold(plan, day):
    history = History(
        holds=(HoldStart(id=1, on=day(2, 5), reason="toxicity"),),
        resumptions=(HoldEnd(id=1, on=day(2, 9)),),
        doses=(taken(day(2, 6)),),
    )

    with pytest.raises(RuleViolation) as caught:
        plan(day(2, 12), history)

    assert caught.value.field == "date"
    assert caught.value.reason == "2026-03-28 falls in the hold from 2026-03-27, resumed 2026-03-31"


def test_a_dose_recorded_during_an_open_hold_is_rejected(plan, day):
    history = History(
        holds=(HoldStart(id=1, on=day(2, 5), reason="toxicity"),), doses=(taken(day(2, 6)),)
    )

    with pytest.raises(RuleViolation, match="falls in the hold from 2026-03-27, not yet resumed"):
        plan(day(2, 7), history)


def test_a_dose_recorded_in_the_delay_before_a_cycle_is_rejected(plan, day):
    history = History(
        holds=(HoldStart(id=1, on=day(2, 16), reason="toxicity"),),
        resumptions=(HoldEnd(id=1, on=date(2026, 4, 20)),),
        doses=(taken(date(2026, 4, 14)),),
    )

    with pytest.raises(RuleViolation, match="falls in the hold from 2026-04-07"):
        plan(date(2026, 4, 21), history)


def test_a_dose_recorded_after_discontinuation_is_rejected(plan, day):
    history = History(
        discontinuation=TreatmentStop(id=1, on=day(2, 3), reason="relapse"),
        doses=(taken(day(2, 4)),),
    )

    with pytest.raises(RuleViolation) as caught:
        plan(day(2, 10), history)

    assert caught.value.reason == "2026-03-26 is after discontinuation on 2026-03-25"


def test_a_second_administration_on_a_once_daily_regimen_is_rejected(plan, day):
    with pytest.raises(InputError) as caught:
        plan(day(1, 5), History(doses=(taken(day(1, 3), slot=2),)))

    assert caught.value.field == "slot"
    assert "1..1" in caught.value.reason
