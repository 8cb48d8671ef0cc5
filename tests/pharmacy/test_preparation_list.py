"""The pharmacy preparation list, on SQLite and PostgreSQL. The fixed clock reads 2026-03-02
noon in Shanghai; S-001 started cycle 1 on Monday 2026-02-02, so cycle 3 day 1 is Monday
2026-03-16 and, two working days earlier, its capsules must be ready by Thursday 2026-03-12."""

from datetime import date, timedelta

import pytest

from scheduler.errors import Conflict, InputError, RuleViolation
from scheduler.pharmacy.accountability import confirm_day1, dispense, prepare, return_to_stock
from scheduler.pharmacy.preparation_list import (
    DAY1_NOT_MET,
    DAY1_UNCONFIRMED,
    DO_NOT_PREPARE,
    DOSE_REDUCED,
    ON_HOLD,
    PLAN_CHANGED,
    PREPARED,
    STOPPED,
    TO_PREPARE,
    CapsuleLine,
    StrengthTotal,
    preparation_list,
)
from scheduler.pharmacy.working_days import working_days_before
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import discontinue, hold, resume

MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}


def _enrolled_and_dispensed(unit, code, c1d1):
    """Enrolled with cycles 1 and 2 dispensed at their day 1 (prepared before the records were
    kept): the list is about what comes next."""
    enroll(unit, code, c1d1=c1d1, surgery="2026-01-05", site_code="ZJU1")
    for cycle in (1, 2):
        dispense(
            unit, code, cycle=cycle, on=c1d1 + timedelta(days=21 * (cycle - 1)), strength=12,
            count=14, lot="AN26", expiry="2027-06-30",
            reason="prepared before the records were kept",
        )  # fmt: skip


@pytest.fixture
def subject(units):
    with units() as unit:
        _enrolled_and_dispensed(unit, "S-001", date(2026, 2, 2))
    return "S-001"


def _list(units, **kwargs):
    with units() as unit:
        return preparation_list(unit.session, unit.now, site_code="ZJU1", **kwargs)


@pytest.mark.parametrize(
    ("day1", "lead", "holidays", "expected"),
    [
        (date(2026, 3, 16), 2, (), date(2026, 3, 12)),  # Monday: back over the weekend
        (date(2026, 3, 18), 2, (), date(2026, 3, 16)),  # Wednesday: Monday
        (date(2026, 3, 16), 2, (date(2026, 3, 12),), date(2026, 3, 11)),  # a holiday skipped
        (date(2026, 3, 15), 0, (), date(2026, 3, 13)),  # Sunday day 1, no lead: the Friday
        (date(2026, 3, 17), 0, (), date(2026, 3, 17)),
    ],
)
def test_the_lead_time_counts_working_days(day1, lead, holidays, expected):
    assert working_days_before(day1, lead, holidays) == expected


def test_each_upcoming_day1_is_one_row_with_capsules_and_prepare_by(units, subject):
    result = _list(units, **MARCH)
    assert [(r.subject, r.cycle, r.day1, r.prepare_by) for r in result.rows] == [
        ("S-001", 3, date(2026, 3, 16), date(2026, 3, 12))
    ]
    row = result.rows[0]
    assert (row.window_start, row.window_end) == (date(2026, 3, 13), date(2026, 3, 19))
    assert (row.dose_mg, row.dose_level, row.status, row.flags) == (
        12,
        0,
        TO_PREPARE,
        (DAY1_UNCONFIRMED,),
    )
    assert row.capsules == (CapsuleLine(12, 14),)  # 1 capsule x 14 dosing days x once daily
    assert result.totals == (StrengthTotal(12, 14),)


def test_the_default_range_is_the_next_seven_days(units, subject):
    result = _list(units)
    assert (result.start, result.end, result.rows) == (date(2026, 3, 2), date(2026, 3, 8), ())


def test_a_site_holiday_moves_the_prepare_by_date(units, subject):
    result = _list(units, holidays={"ZJU1": [date(2026, 3, 12)]}, **MARCH)
    assert result.rows[0].prepare_by == date(2026, 3, 11)


def test_a_subject_on_hold_is_flagged_and_never_to_prepare(units, subject):
    with units() as unit:
        hold(unit, subject, start="2026-03-01", reason="grade 3 diarrhea")
    result = _list(units, **MARCH)
    assert [(r.status, r.flags) for r in result.rows] == [
        (DO_NOT_PREPARE, (ON_HOLD, DAY1_UNCONFIRMED))
    ]
    assert result.totals == ()


def test_a_reduced_dose_is_flagged_with_the_new_strength(units, subject):
    with units() as unit:
        hold(unit, subject, start="2026-03-01", reason="grade 3 hand-foot skin reaction")
    with units() as unit:
        resume(unit, subject, on="2026-03-02", dose_mg=10, reason="resolved to grade 1")
    unscheduled, row = _list(units, **MARCH).rows
    # Resumed on C2D8: cycle 2's last 7 doses need 10 mg capsules now, cycle 3 all 14.
    assert (unscheduled.cycle, unscheduled.capsules) == (2, (CapsuleLine(10, 7),))
    assert unscheduled.unscheduled and not row.unscheduled
    assert (row.status, row.dose_mg, row.dose_level) == (TO_PREPARE, 10, -1)
    assert row.flags == (DOSE_REDUCED, DAY1_UNCONFIRMED)
    assert row.capsules == (CapsuleLine(10, 14),)


def test_a_discontinued_subject_has_nothing_to_prepare(units, subject):
    with units() as unit:
        discontinue(unit, subject, on="2026-03-02", reason="withdrawal")
    assert _list(units, **MARCH).rows == ()


def test_totals_add_up_per_strength_across_subjects(units, subject):
    with units() as unit:
        _enrolled_and_dispensed(unit, "S-002", date(2026, 2, 4))
    result = _list(units, **MARCH)
    assert [r.subject for r in result.rows] == ["S-001", "S-002"]
    assert result.totals == (StrengthTotal(12, 28),)


def test_a_range_that_ends_before_it_starts_is_refused(units, subject):
    with pytest.raises(InputError, match="before the start") as error:
        _list(units, start=date(2026, 3, 10), end=date(2026, 3, 1))
    assert error.value.field == "to"


def test_confirmed_day1_criteria_clear_the_flag_and_unmet_ones_say_why(units, subject):
    with units() as unit:
        confirm_day1(unit, subject, cycle=3, met=True)
    assert _list(units, **MARCH).rows[0].flags == ()
    with pytest.raises(InputError, match="was not met"), units() as unit:
        confirm_day1(unit, subject, cycle=3, met=False, reason="")
    with units() as unit:
        confirm_day1(unit, subject, cycle=3, met=False, reason="platelets 60 x10^9/L")
    assert _list(units, **MARCH).rows[0].flags == (f"{DAY1_NOT_MET}: platelets 60 x10^9/L",)


def test_a_prepared_cycle_is_prepared_and_leaves_the_totals(units, subject):
    with units(actor="pharmacist") as unit:
        prepare(unit, subject, cycle=3)
    result = _list(units, **MARCH)
    assert [(r.status, r.prepared) for r in result.rows] == [(PREPARED, (CapsuleLine(12, 14),))]
    assert result.totals == ()


def test_a_hold_after_preparation_shows_prepared_plan_changed_until_returned(units, subject):
    with units(actor="pharmacist") as unit:
        prepare(unit, subject, cycle=3)
    with units() as unit:
        hold(unit, subject, start="2026-03-02", reason="grade 3 proteinuria")
    # shown whatever the range, until the pharmacist resolves it
    rows = _list(units, start=date(2026, 12, 1), end=date(2026, 12, 7)).rows
    assert [(r.cycle, r.status, ON_HOLD in r.flags) for r in rows] == [(3, PLAN_CHANGED, True)]
    with units(actor="pharmacist") as unit:
        return_to_stock(unit, subject, cycle=3, reason="subject on hold")
    assert [r.status for r in _list(units, **MARCH).rows] == [DO_NOT_PREPARE]


def test_a_reduction_after_preparation_is_resolved_by_relabelling(units, subject):
    with units(actor="pharmacist") as unit:
        prepare(unit, subject, cycle=3)
    with units() as unit:
        hold(unit, subject, start="2026-03-01", reason="grade 3 hand-foot skin reaction")
    with units() as unit:
        resume(unit, subject, on="2026-03-02", dose_mg=10, reason="resolved to grade 1")
    (row,) = [r for r in _list(units, **MARCH).rows if r.cycle == 3]
    assert (row.status, row.prepared, row.capsules) == (
        PLAN_CHANGED,
        (CapsuleLine(12, 14),),
        (CapsuleLine(10, 14),),
    )
    with pytest.raises(Conflict, match="give --reason"), units(actor="pharmacist") as unit:
        prepare(unit, subject, cycle=3)
    with units(actor="pharmacist") as unit:
        prepare(unit, subject, cycle=3, reason="relabelled for 10 mg after reduction")
    (row,) = [r for r in _list(units, **MARCH).rows if r.cycle == 3]
    assert (row.status, row.prepared) == (PREPARED, (CapsuleLine(10, 14),))


def test_a_discontinuation_after_preparation_keeps_the_row_flagged(units, subject):
    with units(actor="pharmacist") as unit:
        prepare(unit, subject, cycle=3)
    with units() as unit:
        discontinue(unit, subject, on="2026-03-02", reason="withdrawal")
    rows = _list(units, **MARCH).rows
    assert [(r.status, STOPPED in r.flags) for r in rows] == [(PLAN_CHANGED, True)]


def test_nothing_is_prepared_for_a_subject_on_hold(units, subject):
    with units() as unit:
        hold(unit, subject, start="2026-03-01", reason="grade 3 diarrhea")
    with pytest.raises(RuleViolation, match="do not prepare"), units(actor="pharmacist") as unit:
        prepare(unit, subject, cycle=3)


def test_another_site_s_holiday_does_not_move_this_site_s_prepare_by_date(units, subject):
    result = _list(units, holidays={"OTHER": [date(2026, 3, 12)]}, **MARCH)
    assert result.rows[0].prepare_by == date(2026, 3, 12)
