"""Holds (interruptions), resumptions, dose reductions and cycle delays."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduler.core import History, HoldEnd, HoldStart, ToxicityReport
from scheduler.errors import InputError, RuleViolation


def hold(on, reason="toxicity", id=1):
    return HoldStart(id=id, on=on, reason=reason)


def resume(on, dose_mg=None, id=1):
    return HoldEnd(id=id, on=on, dose_mg=dose_mg)


def statuses(cycle):
    return {s.day: s.status for s in cycle.doses}


def test_a_grade_3_hypertension_on_cycle_2_day_9_holds_dosing_and_the_next_cycle_starts_at_10_mg(
    plan, day
):
    hypertension = ToxicityReport(id=1, term="Hypertension", grade=3, onset=day(2, 9))
    proposed = plan(day(2, 9), History(adverse_events=(hypertension,)))
    assert proposed.adverse_events[0].proposal.action == "hold_then_reduce"
    assert proposed.adverse_events[0].proposal.resume_dose_mg == 10

    history = History(
        adverse_events=(hypertension,),
        holds=(hold(day(2, 9), "hypertension grade 3"),),
        resumptions=(resume(day(2, 12), dose_mg=10),),
    )
    result = plan(day(2, 20), history)

    c2, c3 = result.cycles[1], result.cycles[2]
    assert statuses(c2) == {n: "planned" if n < 9 or n >= 12 else "held" for n in range(1, 15)}
    assert [s.dose_mg for s in c2.doses] == [12] * 11 + [10] * 3
    assert c3.day1 == day(3, 1)
    assert c3.delay_days == 0
    assert c3.dose_mg == 10
    assert {c.dose_mg for c in result.cycles[2:]} == {10}
    assert {s.dose_mg for c in result.cycles[2:] for s in c.doses} == {10}


def test_days_held_inside_the_dosing_days_are_lost_not_made_up_and_the_cycle_clock_keeps_running(
    plan, day
):
    history = History(holds=(hold(day(2, 5)),), resumptions=(resume(day(2, 10)),))
    result = plan(day(2, 18), history)
    plain = plan(day(2, 18))

    c2 = result.cycles[1]
    assert [s.day for s in c2.doses if s.status == "held"] == [5, 6, 7, 8, 9]
    assert [s.day for s in c2.doses if s.status == "planned"] == [1, 2, 3, 4, *range(10, 15)]
    assert len(c2.doses) == 14  # no dose added at the end to make up
    assert c2.doses[-1].date == day(2, 14)
    assert c2.end == day(2, 21)
    assert [c.day1 for c in result.cycles] == [c.day1 for c in plain.cycles]
    assert [(v.code, v.target) for v in result.visits] == [(v.code, v.target) for v in plain.visits]
    assert {s.dose_mg for s in result.doses()} == {12}


def test_a_hold_on_rest_days_that_ends_before_the_next_day_1_moves_nothing(plan, day):
    history = History(holds=(hold(day(2, 16)),), resumptions=(resume(day(2, 20)),))
    result = plan(day(3, 2), history)

    assert {s.status for s in result.doses()} == {"planned"}
    assert [c.day1 for c in result.cycles] == [c.day1 for c in plan(day(3, 2)).cycles]


def test_a_hold_spanning_the_next_day_1_delays_that_cycle_to_the_day_dosing_resumes(plan, day):
    # Hold from C2D12 (2026-04-03); C3 was due 2026-04-13; resumed 2026-04-20: a 7-day delay.
    history = History(holds=(hold(date(2026, 4, 3)),), resumptions=(resume(date(2026, 4, 20)),))
    result = plan(date(2026, 4, 21), history)
    plain = plan(date(2026, 4, 21))
    week = timedelta(days=7)

    c2, c3 = result.cycles[1], result.cycles[2]
    assert [s.day for s in c2.doses if s.status == "held"] == [12, 13, 14]
    assert c2.end == date(2026, 4, 19)  # the delay lengthens the rest of cycle 2
    assert c3.day1 == date(2026, 4, 20)
    assert c3.nominal_day1 == date(2026, 4, 13)
    assert c3.delay_days == 7
    assert c3.doses[0].date == date(2026, 4, 20)
    assert c3.doses[0].status == "planned"
    # Every later cycle moves with it, 21 days apart.
    for moved, before in zip(result.cycles[2:], plain.cycles[2:], strict=True):
        assert moved.day1 == before.day1 + week
    assert [c.delay_days for c in result.cycles[3:]] == [0] * 5
    assert result.cycles[-1].doses[-1].date == date(2026, 8, 16)


def test_a_cycle_delay_moves_cycle_visits_and_eot_but_not_the_surgery_anchored_follow_ups(
    plan, day
):
    history = History(holds=(hold(date(2026, 4, 3)),), resumptions=(resume(date(2026, 4, 20)),))
    moved = {v.code: v for v in plan(date(2026, 4, 21), history).visits}
    plain = {v.code: v for v in plan(date(2026, 4, 21)).visits}
    week = timedelta(days=7)

    for code in ["SCR", "C1D1", "C1D15", "C2D1"]:
        assert moved[code].target == plain[code].target
    for code in [f"C{n}D1" for n in range(3, 9)] + ["EOT"]:
        assert moved[code].target == plain[code].target + week
        assert moved[code].window_start == plain[code].window_start + week
        assert moved[code].window_end == plain[code].window_end + week
    for code in ["FU3M", "FU6M", "FU9M", "FU12M"]:
        assert moved[code].target == plain[code].target
        assert moved[code].window_start == plain[code].window_start


def test_while_a_hold_spanning_day_1_is_open_the_later_cycles_are_tentative(plan, day):
    # On hold since C2D12 (2026-04-03); today 2026-04-15, past the nominal C3D1 (04-13).
    result = plan(date(2026, 4, 15), History(holds=(hold(date(2026, 4, 3)),)))

    assert result.status == "on_hold"
    assert result.current_hold() is not None
    c3 = result.cycles[2]
    assert c3.day1 == date(2026, 4, 16)  # projected: the earliest day the hold could end
    assert c3.tentative
    assert all(c.tentative for c in result.cycles[2:])
    assert not result.cycles[1].tentative
    assert result.visit("C3D1").tentative
    # No dose after the hold start is shown as one to take.
    after = [s for s in result.doses() if s.date >= date(2026, 4, 3)]
    assert {s.status for s in after} == {"held"}


def test_resuming_at_a_reduced_level_carries_to_every_later_cycle(plan, day):
    history = History(
        holds=(hold(day(2, 9)), hold(day(4, 3), id=2)),
        resumptions=(resume(day(2, 12), dose_mg=10), resume(day(4, 8), dose_mg=8, id=2)),
    )
    result = plan(day(4, 10), history)

    assert [c.dose_mg for c in result.cycles] == [12, 12, 10, 10, 8, 8, 8, 8]
    c4 = result.cycles[3]
    assert [s.dose_mg for s in c4.doses if s.status == "planned"] == [10, 10] + [8] * 7
    assert result.dose_mg == 8


def test_resuming_without_a_dose_keeps_the_level_in_effect_before_the_hold(plan, day):
    history = History(
        holds=(hold(day(2, 9)), hold(day(3, 3), id=2)),
        resumptions=(resume(day(2, 12), dose_mg=10), resume(day(3, 6), id=2)),
    )
    result = plan(day(3, 10), history)

    assert [c.dose_mg for c in result.cycles[2:]] == [10] * 6


def test_re_escalation_after_a_reduction_is_rejected_naming_dose_mg(plan, day):
    history = History(
        holds=(hold(day(2, 9)), hold(day(3, 3), id=2)),
        resumptions=(resume(day(2, 12), dose_mg=10), resume(day(3, 6), dose_mg=12, id=2)),
    )

    with pytest.raises(RuleViolation) as caught:
        plan(day(3, 10), history)

    assert caught.value.field == "dose_mg"
    assert "re-escalat" in caught.value.reason
    assert "12 mg" in caught.value.reason and "10 mg" in caught.value.reason


def test_resuming_at_a_dose_that_is_not_a_level_of_the_protocol_is_rejected(plan, day):
    history = History(holds=(hold(day(2, 9)),), resumptions=(resume(day(2, 12), dose_mg=11),))

    with pytest.raises(InputError) as caught:
        plan(day(3, 10), history)

    assert caught.value.field == "dose_mg"
    assert "11 mg is not a dose level" in caught.value.reason
    assert "12 mg, 10 mg, 8 mg" in caught.value.reason


def test_a_resumption_without_a_hold_is_rejected(plan, day):
    with pytest.raises(RuleViolation) as caught:
        plan(day(2, 10), History(resumptions=(resume(day(2, 9)),)))

    assert caught.value.field == "on"
    assert caught.value.reason == "no hold to resume on 2026-03-31"


def test_a_second_hold_while_on_hold_is_rejected(plan, day):
    with pytest.raises(RuleViolation, match="already on hold since 2026-03-27"):
        plan(day(2, 10), History(holds=(hold(day(2, 5)), hold(day(2, 8), id=2))))


def test_a_resumption_on_the_day_the_hold_starts_is_rejected(plan, day):
    with pytest.raises(RuleViolation, match="must be after the hold start"):
        plan(day(2, 10), History(holds=(hold(day(2, 5)),), resumptions=(resume(day(2, 5)),)))


def test_a_hold_before_cycle_1_day_1_is_rejected(plan):
    with pytest.raises(RuleViolation, match="before cycle 1 day 1"):
        plan(date(2026, 3, 5), History(holds=(hold(date(2026, 3, 1)),)))


def test_a_hold_lasting_more_than_14_days_proposes_discontinuation(plan, day):
    history = History(holds=(hold(day(2, 5)),))  # 2026-03-27

    on_day_14 = plan(date(2026, 4, 9), history)
    on_day_15 = plan(date(2026, 4, 10), history)

    assert on_day_14.holds[0].length_days(on_day_14.today) == 14
    assert on_day_14.proposals == ()
    assert [(p.action, p.rule_id) for p in on_day_15.proposals] == [("discontinue", "hold-limit")]
    assert "beyond the 14-day limit" in on_day_15.proposals[0].reason


def test_a_cycle_delayed_more_than_14_days_proposes_discontinuation(plan, day):
    # Hold from C2D16 (a rest day) covers C3's nominal D1 2026-04-13.
    def delayed_until(resumed):
        history = History(holds=(hold(day(2, 16)),), resumptions=(resume(resumed),))
        return plan(resumed, history)

    fourteen = delayed_until(date(2026, 4, 27))
    fifteen = delayed_until(date(2026, 4, 28))

    assert fourteen.cycles[2].delay_days == 14
    assert fourteen.proposals == ()
    assert fifteen.cycles[2].delay_days == 15
    assert [(p.action, p.rule_id) for p in fifteen.proposals] == [("discontinue", "delay-limit")]
    assert "cycle 3 is delayed 15 days" in fifteen.proposals[0].reason
