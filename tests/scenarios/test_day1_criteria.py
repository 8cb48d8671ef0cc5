"""Day-1 criteria: a cycle cannot start before they are met (DOMAIN.md, "Cycle delay").

Cycle 3 is due on Monday 2026-04-13 (see conftest.py); cycle 2 ran 03-23..04-12."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduler.core import (
    Day1Assessment,
    DoseOutcome,
    History,
    HoldEnd,
    HoldStart,
    TreatmentStop,
    build_plan,
)
from scheduler.errors import InputError, RuleViolation

C3D1 = date(2026, 4, 13)
WEEK = timedelta(days=7)


def check(on, met, cycle=3, id=1):
    return Day1Assessment(id=id, cycle=cycle, on=on, met=met)


def checks(*assessments):
    return History(day1_assessments=assessments)


def test_day_1_criteria_not_met_at_c3d1_delay_cycle_3_until_they_are_met(plan):
    """Later cycles and cycle-anchored visits move; follow-ups stay."""
    history = checks(check(C3D1, met=False), check(C3D1 + WEEK, met=True, id=2))
    moved = plan(date(2026, 4, 21), history)
    plain = plan(date(2026, 4, 21))

    c2, c3 = moved.cycles[1], moved.cycles[2]
    assert (c3.day1, c3.nominal_day1, c3.delay_days) == (date(2026, 4, 20), C3D1, 7)
    assert c3.doses[0].date == date(2026, 4, 20) and c3.doses[0].status == "planned"
    for after, before in zip(moved.cycles[2:], plain.cycles[2:], strict=True):
        assert after.day1 == before.day1 + WEEK
    assert [c.delay_days for c in moved.cycles[3:]] == [0] * 5
    visits = {v.code: v for v in moved.visits}
    unmoved = {v.code: v for v in plain.visits}
    for code in ["SCR", "C1D1", "C1D15", "C2D1"]:
        assert visits[code].target == unmoved[code].target
    for code in [f"C{n}D1" for n in range(3, 9)] + ["EOT"]:
        assert visits[code].target == unmoved[code].target + WEEK
        assert visits[code].window_end == unmoved[code].window_end + WEEK
    for code in ["FU3M", "FU6M", "FU9M", "FU12M"]:
        assert (visits[code].target, visits[code].window_start) == (
            unmoved[code].target,
            unmoved[code].window_start,
        )
    # The days waited are the lengthened rest of cycle 2, not held doses of it.
    assert c2.end == date(2026, 4, 19)
    assert {s.status for s in moved.doses()} == {"planned"}
    assert moved.holds == ()


def test_criteria_met_late_on_a_later_date_start_the_cycle_that_day(plan):
    history = checks(
        check(C3D1 - timedelta(days=1), met=False),
        check(C3D1 + timedelta(days=2), met=False, id=2),
        check(C3D1 + timedelta(days=5), met=True, id=3),
    )
    result = plan(date(2026, 4, 30), history)

    c3 = result.cycles[2]
    assert (c3.day1, c3.delay_days, c3.tentative) == (date(2026, 4, 18), 5, False)
    assert result.criteria_delay(3).met_on == date(2026, 4, 18)
    assert result.status == "on_treatment"


def test_an_unmet_check_before_the_planned_d1_followed_by_a_met_check_before_it_changes_nothing(
    plan,
):
    history = checks(
        check(C3D1 - timedelta(days=4), met=False), check(C3D1 - timedelta(days=2), met=True, id=2)
    )
    today = date(2026, 4, 20)

    assert [c.day1 for c in plan(today, history).cycles] == [c.day1 for c in plan(today).cycles]
    assert plan(today, history).proposals == ()


def test_a_met_check_before_a_later_unmet_one_does_not_start_the_cycle(plan):
    history = checks(
        check(C3D1 - timedelta(days=3), met=True),
        check(C3D1 - timedelta(days=1), met=False, id=2),
        check(C3D1 + timedelta(days=3), met=True, id=3),
    )

    assert plan(date(2026, 4, 20), history).cycles[2].day1 == date(2026, 4, 16)


def test_a_second_check_on_the_same_day_corrects_the_first(plan):
    # Recorded "not met", then corrected to "met" for that same day: nothing waits.
    history = checks(check(C3D1, met=False), check(C3D1, met=True, id=2))
    assert plan(date(2026, 4, 20), history).cycles[2].day1 == C3D1
    # And the other way round: the cycle waits.
    history = checks(check(C3D1, met=True), check(C3D1, met=False, id=2))
    assert plan(date(2026, 4, 20), history).waiting_for_criteria() is not None


def test_while_no_check_says_met_the_delay_is_open_like_an_open_hold_and_never_assumed_to_end(
    plan,
):
    today = date(2026, 4, 20)
    result = plan(today, checks(check(C3D1, met=False)))

    c3 = result.cycles[2]
    assert (c3.day1, c3.delay_days) == (today + timedelta(days=1), 8)  # tomorrow, at the earliest
    assert all(c.tentative for c in result.cycles[2:])
    assert not result.cycles[1].tentative
    assert result.visit("C3D1").tentative and result.visit("EOT").tentative
    assert not result.visit("FU6M").tentative
    # No dose of a waiting cycle is one to take: no feed or reminder says "take it".
    assert {s.status for c in result.cycles[2:] for s in c.doses} == {"held"}
    assert {s.status for c in result.cycles[:2] for s in c.doses} == {"planned"}
    # The subject is not on hold: nothing was held, so there is nothing to resume.
    assert (result.status, result.holds, result.current_hold()) == ("on_treatment", (), None)
    waiting = result.waiting_for_criteria()
    assert (waiting.cycle, waiting.unmet_on, waiting.met_on) == (3, C3D1, None)
    # A day later the layout has moved a day: the wait is not assumed to have ended.
    assert plan(today + timedelta(days=1), checks(check(C3D1, met=False))).cycles[2].day1 == (
        today + timedelta(days=2)
    )


def test_an_unmet_check_before_the_planned_d1_keeps_that_day_but_makes_it_tentative(plan):
    result = plan(C3D1 - timedelta(days=3), checks(check(C3D1 - timedelta(days=3), met=False)))

    c3 = result.cycles[2]
    assert (c3.day1, c3.delay_days, c3.tentative) == (C3D1, 0, True)
    assert result.proposals == ()


def test_criteria_unmet_for_more_than_14_days_propose_discontinuation(plan):
    history = checks(check(C3D1, met=False))

    on_day_14 = plan(C3D1 + timedelta(days=13), history)  # starts tomorrow at best: 14 days
    on_day_15 = plan(C3D1 + timedelta(days=14), history)

    assert on_day_14.cycles[2].delay_days == 14 and on_day_14.proposals == ()
    (proposal,) = on_day_15.proposals
    assert (proposal.action, proposal.rule_id) == ("discontinue", "delay-limit")
    assert proposal.reason == (
        "cycle 3 is delayed 15 days, beyond the 14-day limit: "
        "day-1 criteria not met since 2026-04-13"
    )


def test_criteria_met_after_more_than_14_days_still_propose_discontinuation_while_the_cycle_runs(
    plan,
):
    history = checks(check(C3D1, met=False), check(C3D1 + timedelta(days=15), met=True, id=2))
    result = plan(C3D1 + timedelta(days=16), history)

    assert result.cycles[2].delay_days == 15
    (proposal,) = result.proposals
    assert proposal.reason == "cycle 3 is delayed 15 days, beyond the 14-day limit"


def test_the_delay_counts_from_a_day_1_already_moved_by_a_hold_and_a_hold_after_it_counts_too(
    plan,
):
    # Held from C2D16 to 04-16 (C3 moved 3 days), criteria met only on 04-20, inside a second
    # hold from 04-19 resumed 04-23: cycle 3 starts 04-23, 10 days late.
    history = History(
        holds=(
            HoldStart(id=1, on=date(2026, 4, 7), reason="toxicity"),
            HoldStart(id=2, on=date(2026, 4, 19), reason="toxicity"),
        ),
        resumptions=(
            HoldEnd(id=1, on=date(2026, 4, 16)),
            HoldEnd(id=2, on=date(2026, 4, 23)),
        ),
        day1_assessments=(
            check(date(2026, 4, 16), met=False),
            check(date(2026, 4, 20), met=True, id=2),
        ),
    )
    c3 = plan(date(2026, 4, 25), history).cycles[2]

    assert (c3.day1, c3.delay_days) == (date(2026, 4, 23), 10)


def test_a_dose_recorded_in_a_cycle_waiting_for_its_criteria_is_refused(plan):
    history = History(
        day1_assessments=(check(C3D1, met=False),),
        doses=(DoseOutcome(id=1, on=date(2026, 4, 22), taken=True),),
    )

    with pytest.raises(RuleViolation) as refused:
        plan(date(2026, 4, 22), history)
    assert refused.value.field == "date"
    assert refused.value.reason == (
        "cycle 3 waits for its day-1 criteria (not met on 2026-04-13): "
        "no dose is planned on 2026-04-22"
    )


def test_a_dose_recorded_in_the_days_waited_is_refused_as_not_a_dosing_day(plan):
    history = History(
        day1_assessments=(check(C3D1, met=False), check(C3D1 + WEEK, met=True, id=2)),
        doses=(DoseOutcome(id=1, on=C3D1 + timedelta(days=2), taken=True),),
    )

    with pytest.raises(InputError, match="in the delay before cycle 3, not a dosing day"):
        plan(date(2026, 4, 22), history)


def test_a_discontinuation_while_waiting_ends_the_wait_the_cycle_never_started(plan):
    stop = TreatmentStop(id=1, on=date(2026, 4, 17), reason="investigator")
    history = History(day1_assessments=(check(C3D1, met=False),), discontinuation=stop)
    result = plan(date(2026, 4, 20), history)

    assert result.status == "discontinued" and result.waiting_for_criteria() is None
    assert [c.status for c in result.cycles[2:]] == ["cancelled"] * 6
    assert not any(c.tentative for c in result.cycles)
    assert result.visit("C3D1").status == "cancelled"
    assert result.visit("FU6M").status != "cancelled"


def test_a_check_for_a_cycle_the_protocol_does_not_have_is_refused_naming_cycle(plan):
    with pytest.raises(InputError) as refused:
        plan(date(2026, 4, 20), checks(check(C3D1, met=False, cycle=9)))
    assert (refused.value.field, refused.value.reason) == (
        "cycle",
        "9 is not a cycle of the plan (1..8)",
    )


def test_twice_daily_cycles_wait_the_same_way(cape_subject, capecitabine):
    # Capecitabine: 21-day cycles too, so cycle 2 is due 2026-03-23.
    history = checks(check(date(2026, 3, 23), met=False, cycle=2))
    result = build_plan(capecitabine, cape_subject, history, date(2026, 3, 25))

    c2 = result.cycles[1]
    assert (c2.day1, c2.tentative) == (date(2026, 3, 26), True)
    assert {s.status for s in c2.doses} == {"held"} and {s.slot for s in c2.doses} == {1, 2}
