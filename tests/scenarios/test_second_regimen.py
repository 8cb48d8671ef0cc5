"""The second shipped regimen (EXAMPLE-CAPE-BID) plans with no code of its own."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from scheduler.core import Anchors, DoseOutcome, History, HoldEnd, HoldStart, build_plan
from scheduler.errors import InputError


def test_a_twice_daily_regimen_has_6_cycles_of_14_days_with_two_slots_a_day(
    capecitabine, cape_subject
):
    result = build_plan(capecitabine, cape_subject, History(), date(2026, 2, 1))

    assert len(result.cycles) == 6
    assert [c.day1 for c in result.cycles] == [
        date(2026, 3, 2) + timedelta(days=21 * n) for n in range(6)
    ]
    c1 = result.cycles[0]
    assert [s.key for s in c1.doses[:4]] == ["C1D1S1", "C1D1S2", "C1D2S1", "C1D2S2"]
    assert [(s.slot, s.time) for s in c1.doses[:2]] == [(1, time(8, 0)), (2, time(20, 0))]
    assert c1.doses[-1].key == "C1D14S2"
    assert len(list(result.doses())) == 6 * 14 * 2
    assert {s.dose_mg for s in result.doses()} == {1500}


def test_the_second_regimen_has_its_own_visits(capecitabine, cape_subject):
    visits = {
        v.code: v
        for v in build_plan(capecitabine, cape_subject, History(), date(2026, 2, 1)).visits
    }

    assert sorted(visits) == sorted(
        ["BASE", *(f"C{n}D1" for n in range(1, 7)), "C1D8", "C2D8", "EOT", "FU6M"]
    )
    assert visits["C2D8"].target == date(2026, 3, 30)
    assert visits["EOT"].target == date(2026, 7, 28)  # C6D14 (2026-06-28) + 30 days
    # Version 2 counts the follow-up from the last dose: the regimen needs no surgery date.
    assert visits["FU6M"].target == date(2026, 12, 27)  # C6D14 (2026-06-28) + 182 days


def test_each_administration_of_the_day_is_recorded_and_judged_on_its_own(
    capecitabine, cape_subject
):
    history = History(
        doses=(
            DoseOutcome(id=1, on=date(2026, 3, 2), taken=True, slot=1, taken_at=time(8, 10)),
            DoseOutcome(id=2, on=date(2026, 3, 2), taken=True, slot=2, taken_at=time(23, 0)),
            DoseOutcome(id=3, on=date(2026, 3, 3), taken=False, slot=2),
        )
    )
    result = build_plan(capecitabine, cape_subject, history, date(2026, 3, 4))
    slots = {s.key: (s.status, s.late_minutes) for s in result.cycles[0].doses[:4]}

    assert slots == {
        "C1D1S1": ("taken", 10),
        "C1D1S2": ("late", 180),  # 3 h late, within this protocol's 6 h
        "C1D2S1": ("planned", None),
        "C1D2S2": ("missed", None),
    }


def test_the_second_regimen_has_its_own_limits_and_dose_levels(capecitabine, cape_subject):
    history = History(
        holds=(HoldStart(id=1, on=date(2026, 3, 10), reason="hand-foot syndrome"),),
        resumptions=(HoldEnd(id=1, on=date(2026, 3, 14), dose_mg=1150),),
    )
    result = build_plan(capecitabine, cape_subject, history, date(2026, 3, 14))

    assert result.cycles[1].dose_mg == 1150
    assert {s.dose_mg for s in result.cycles[0].doses if s.date >= date(2026, 3, 14)} == {1150}
    # An open hold of 21 days is within this protocol's 21-day limit.
    open_hold = History(holds=(HoldStart(id=1, on=date(2026, 3, 10), reason="x"),))
    assert build_plan(capecitabine, cape_subject, open_hold, date(2026, 3, 30)).proposals == ()
    assert build_plan(capecitabine, cape_subject, open_hold, date(2026, 3, 31)).proposals != ()


def test_a_dose_time_whose_last_administration_falls_past_midnight_is_rejected(
    capecitabine, cape_subject
):
    late_start = Anchors(
        subject="CAPE-2",
        c1d1=cape_subject.c1d1,
        surgery=cape_subject.surgery,
        time_zone=cape_subject.time_zone,
        dose_time=time(12, 0),
    )

    with pytest.raises(InputError) as caught:
        build_plan(capecitabine, late_start, History(), date(2026, 2, 1))

    assert caught.value.field == "dose_time"
