"""A subject with nothing recorded yet: the plan as the protocol reads, and its stability."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import date, time, timedelta

from scheduler.core import History, build_plan, plan_to_json


def test_a_plain_plan_has_8_cycles_of_14_once_daily_doses_on_days_1_to_14_of_21(plan, day):
    result = plan(date(2026, 2, 20))

    assert result.status == "screening"
    assert [c.number for c in result.cycles] == list(range(1, 9))
    for cycle in result.cycles:
        assert cycle.day1 == day(cycle.number, 1)
        assert cycle.end == day(cycle.number, 21)
        assert cycle.delay_days == 0
        assert cycle.dose_mg == 12
        assert cycle.status == "planned"
        assert not cycle.tentative
        assert [s.day for s in cycle.doses] == list(range(1, 15))
        assert [s.date for s in cycle.doses] == [day(cycle.number, n) for n in range(1, 15)]
        assert {s.status for s in cycle.doses} == {"planned"}
        assert {s.dose_mg for s in cycle.doses} == {12}
        assert {s.time for s in cycle.doses} == {time(8, 0)}
    assert len(list(result.doses())) == 8 * 14
    assert result.cycles[1].doses[4].key == "C2D5"
    assert result.cycles[-1].doses[-1].date == date(2026, 8, 9)


def test_day_1_of_each_cycle_is_21_days_after_the_previous_one(plan):
    day1s = [c.day1 for c in plan(date(2026, 2, 20)).cycles]

    assert [b - a for a, b in itertools.pairwise(day1s)] == [timedelta(days=21)] * 7


def test_the_visit_plan_has_screening_baseline_imaging_c1d1_c1d15_c2d1_to_c8d1_eot_four_follow_ups_and_the_survival_contact(  # noqa: E501
    plan,
):
    visits = {v.code: v for v in plan(date(2026, 2, 20)).visits}

    cycle_visits = [f"C{n}D1" for n in range(2, 9)]
    follow_ups = ["FU3M", "FU6M", "FU9M", "FU12M", "SURV12M"]
    expected = ["SCR", "BASE", "C1D1", "C1D15", *cycle_visits, "EOT", *follow_ups]
    assert sorted(visits) == sorted(expected)

    def window(code):
        v = visits[code]
        return v.target, v.window_start, v.window_end

    # Screening: day -14 .. -1 of C1D1, the whole range is the window.
    assert window("SCR") == (date(2026, 2, 16), date(2026, 2, 16), date(2026, 3, 1))
    assert window("C1D1") == (date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 2))
    # C1D15 safety check: C1D1 + 14, +/- 2 days.
    assert window("C1D15") == (date(2026, 3, 16), date(2026, 3, 14), date(2026, 3, 18))
    # CnD1: day 1 of the cycle, +/- 3 days.
    assert window("C2D1") == (date(2026, 3, 23), date(2026, 3, 20), date(2026, 3, 26))
    assert window("C8D1") == (date(2026, 7, 27), date(2026, 7, 24), date(2026, 7, 30))
    # End of treatment: 28 days after the last (projected) dose, C8D14 = 2026-08-09, +/- 7.
    assert window("EOT") == (date(2026, 9, 6), date(2026, 8, 30), date(2026, 9, 13))
    assert visits["EOT"].tentative
    # Follow-ups: surgery (2026-01-20) + 3, 6, 9, 12 months, +/- 14 days.
    assert window("FU3M") == (date(2026, 4, 20), date(2026, 4, 6), date(2026, 5, 4))
    assert window("FU6M") == (date(2026, 7, 20), date(2026, 7, 6), date(2026, 8, 3))
    assert window("FU9M") == (date(2026, 10, 20), date(2026, 10, 6), date(2026, 11, 3))
    assert window("FU12M") == (date(2027, 1, 20), date(2027, 1, 6), date(2027, 2, 3))


def test_dispensing_visits_are_c1d1_to_c8d1(plan):
    dispensing = [v.code for v in plan(date(2026, 2, 20)).visits if v.dispense]

    assert dispensing == [f"C{n}D1" for n in range(1, 9)]


def test_visits_are_listed_by_target_date(plan):
    targets = [v.target for v in plan(date(2026, 2, 20)).visits]

    assert targets == sorted(targets)


def test_visit_status_follows_today_planned_then_due_then_overdue(plan):
    def c2d1(today):
        return plan(today).visit("C2D1").status

    assert c2d1(date(2026, 3, 19)) == "planned"
    assert c2d1(date(2026, 3, 20)) == "due"
    assert c2d1(date(2026, 3, 26)) == "due"
    assert c2d1(date(2026, 3, 27)) == "overdue"


def test_treatment_status_is_screening_before_c1d1_then_on_treatment(plan):
    assert plan(date(2026, 3, 1)).status == "screening"
    assert plan(date(2026, 3, 2)).status == "on_treatment"
    assert plan(date(2026, 3, 2)).cycles[0].status == "in_progress"


def test_the_same_inputs_give_byte_identical_json(anlotinib, subject, day):
    from scheduler.core import DoseOutcome, HoldEnd, HoldStart

    history = History(
        doses=(DoseOutcome(id=1, on=day(1, 1), taken=True, taken_at=time(9, 30)),),
        holds=(HoldStart(id=1, on=day(2, 5), reason="hypertension grade 3"),),
        resumptions=(HoldEnd(id=1, on=day(2, 12), dose_mg=10),),
    )
    first = plan_to_json(build_plan(anlotinib, subject, history, date(2026, 4, 1)))
    second = plan_to_json(build_plan(anlotinib, subject, history, date(2026, 4, 1)))

    assert first.encode() == second.encode()
    assert '"key": "C2D12"' in first


_PLAN_SCRIPT = """
from datetime import date, time
from zoneinfo import ZoneInfo
from scheduler.core import (
    Anchors, DoseOutcome, History, HoldEnd, HoldStart, ToxicityReport, build_plan, plan_to_json,
)
from scheduler.protocols import load_protocol, shipped_protocol_files

protocol = load_protocol(next(p for p in shipped_protocol_files() if p.name == "nct03945799.toml"))
anchors = Anchors(subject="ZJU1-001", c1d1=date(2026, 3, 2), surgery=date(2026, 1, 20),
                  time_zone=ZoneInfo("Asia/Shanghai"))
history = History(
    doses=(DoseOutcome(id=1, on=date(2026, 3, 2), taken=True, taken_at=time(9, 30)),),
    holds=(HoldStart(id=1, on=date(2026, 4, 3), reason="hypertension grade 3"),),
    resumptions=(HoldEnd(id=1, on=date(2026, 4, 20), dose_mg=10),),
    adverse_events=(ToxicityReport(id=1, term="Hypertension", grade=3, onset=date(2026, 4, 3)),),
)
print(plan_to_json(build_plan(protocol, anchors, history, date(2026, 4, 21))), end="")
"""


def test_plan_json_is_byte_identical_across_processes_and_hash_seeds():
    outputs = {
        subprocess.run(
            [sys.executable, "-c", _PLAN_SCRIPT],
            capture_output=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }

    assert len(outputs) == 1
    assert b'"delay_days": 7' in outputs.pop()
