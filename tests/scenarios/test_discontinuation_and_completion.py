"""The end of treatment: discontinuation for any reason, or all 8 cycles completed."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from scheduler.core import DoseOutcome, History, HoldStart, TreatmentStop
from scheduler.errors import RuleViolation


def taken_every_day(day, until, *, skip=()):
    """Taken records for every dosing day from C1D1 through ``until`` (cycle, day)."""
    records = []
    for cycle in range(1, until[0] + 1):
        last = until[1] if cycle == until[0] else 14
        for n in range(1, last + 1):
            if (cycle, n) not in skip:
                records.append(
                    DoseOutcome(id=len(records) + 1, on=day(cycle, n), taken=True, taken_at=time(8))
                )
    return tuple(records)


def test_discontinuation_cancels_remaining_doses_and_eot_is_28_days_after_the_last_dose_taken(
    plan, day
):
    # Taken through C2D6 (2026-03-28), C2D7 missed, discontinued for relapse on C2D8 (03-30).
    doses = (*taken_every_day(day, (2, 6)), DoseOutcome(id=99, on=day(2, 7), taken=False))
    history = History(
        doses=doses, discontinuation=TreatmentStop(id=1, on=day(2, 8), reason="relapse")
    )
    result = plan(date(2026, 4, 2), history)

    assert result.status == "discontinued"
    assert result.last_dose_taken == date(2026, 3, 28)
    c2 = result.cycles[1]
    assert c2.status == "stopped"
    assert [s.status for s in c2.doses] == ["taken"] * 6 + ["missed"] + ["cancelled"] * 7
    assert all(c.status == "cancelled" for c in result.cycles[2:])
    assert {s.status for c in result.cycles[2:] for s in c.doses} == {"cancelled"}
    assert not [s for s in result.doses() if s.status == "planned"]

    eot = result.visit("EOT")
    assert eot.target == date(2026, 4, 25)  # 2026-03-28 + 28
    assert (eot.window_start, eot.window_end) == (date(2026, 4, 18), date(2026, 5, 2))
    assert not eot.tentative
    assert eot.status == "planned"
    assert {result.visit(f"C{n}D1").status for n in range(3, 9)} == {"cancelled"}
    # Follow-up visits are kept.
    assert {result.visit(code).status for code in ("FU6M", "FU9M", "FU12M")} == {"planned"}
    assert result.proposals == ()


def test_a_dose_taken_on_the_day_of_discontinuation_counts_as_the_last_dose(plan, day):
    history = History(
        doses=taken_every_day(day, (2, 8)),
        discontinuation=TreatmentStop(id=1, on=day(2, 8), reason="withdrawal"),
    )
    result = plan(date(2026, 4, 2), history)

    assert result.last_dose_taken == day(2, 8)
    assert result.visit("EOT").target == day(2, 8) + timedelta(days=28)
    assert result.cycles[1].doses[7].status == "taken"
    assert result.cycles[1].doses[8].status == "cancelled"


def test_without_any_dose_recorded_eot_falls_back_to_the_discontinuation_date(plan, day):
    history = History(discontinuation=TreatmentStop(id=1, on=day(1, 5), reason="withdrawal"))
    result = plan(day(1, 6), history)

    assert result.last_dose_taken is None
    assert result.visit("EOT").target == day(1, 5) + timedelta(days=28)
    assert result.visit("C1D15").status == "cancelled"


def test_death_cancels_every_visit_after_it_including_follow_ups(plan, day):
    history = History(
        doses=taken_every_day(day, (2, 3)),
        discontinuation=TreatmentStop(id=1, on=day(2, 4), reason="death"),
    )
    result = plan(day(2, 10), history)

    assert {result.visit(code).status for code in ("FU3M", "FU6M", "FU9M", "FU12M")} == {
        "cancelled"
    }
    assert result.visit("EOT").status == "cancelled"


def test_discontinued_while_on_hold_the_delayed_cycle_never_starts(plan, day):
    # On hold from C2D10 (2026-04-01), never resumed; C3 was due 04-13; discontinued 04-20.
    history = History(
        doses=taken_every_day(day, (2, 9)),
        holds=(HoldStart(id=1, on=day(2, 10), reason="hypertension grade 3"),),
        discontinuation=TreatmentStop(id=1, on=date(2026, 4, 20), reason="toxicity"),
    )
    result = plan(date(2026, 4, 21), history)

    assert result.status == "discontinued"
    assert result.cycles[2].status == "cancelled"
    assert {s.status for c in result.cycles[2:] for s in c.doses} == {"cancelled"}
    assert result.visit("C3D1").status == "cancelled"
    assert result.last_dose_taken == day(2, 9)
    assert result.visit("EOT").target == day(2, 9) + timedelta(days=28)


def test_a_dose_on_the_discontinuation_day_of_a_hold_never_resumed_is_rejected(plan, day):
    history = History(
        holds=(HoldStart(id=1, on=day(2, 10), reason="toxicity"),),
        discontinuation=TreatmentStop(id=1, on=day(2, 13), reason="toxicity"),
        doses=(DoseOutcome(id=1, on=day(2, 13), taken=True),),
    )

    with pytest.raises(RuleViolation, match="not resumed before discontinuation on 2026-04-04"):
        plan(day(2, 14), history)


def test_completing_cycle_8_ends_treatment_and_eot_is_28_days_after_the_last_dose(plan, day):
    history = History(doses=taken_every_day(day, (8, 14)))

    during = plan(day(8, 14), history)
    after = plan(day(8, 15), history)

    assert during.status == "on_treatment"
    assert after.status == "completed"
    assert {c.status for c in after.cycles[:-1]} == {"completed"}
    assert after.cycles[-1].status == "in_progress"  # its rest days run to 2026-08-16
    assert after.last_dose_taken == date(2026, 8, 9)
    eot = after.visit("EOT")
    assert eot.target == date(2026, 9, 6)
    assert not eot.tentative
    assert after.proposals == ()


def test_when_the_last_planned_dose_is_missed_eot_counts_from_the_last_dose_taken(plan, day):
    history = History(
        doses=(
            *taken_every_day(day, (8, 14), skip={(8, 14)}),
            DoseOutcome(id=500, on=day(8, 14), taken=False),
        )
    )
    result = plan(day(8, 20), history)

    assert result.status == "completed"
    assert result.last_dose_taken == date(2026, 8, 8)
    assert result.visit("EOT").target == date(2026, 9, 5)
