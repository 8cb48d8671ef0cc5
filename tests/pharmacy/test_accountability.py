"""Dispensing, returns and reconciliation, on SQLite and PostgreSQL. The fixed clock reads
2026-03-02 noon in Shanghai; S-001 started cycle 1 on 2026-02-02 and took 14 capsules home
for days 1-14. At the cycle 2 day 1 visit (2026-02-23) the nurse counts what came back."""

from datetime import date, timedelta

import pytest

from scheduler.core.accountability import relative_dose_intensity
from scheduler.errors import Conflict, InputError, NotFound, RuleViolation
from scheduler.kernel.subject_state import plan_for
from scheduler.pharmacy.accountability import dispense, reconciliation_for, record_return, review
from scheduler.pharmacy.preparation_list import preparation_list
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold
from scheduler.worklist.items import worklist

C1D1 = date(2026, 2, 2)


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-02", surgery="2026-01-05", site_code="ZJU1")
        dispense(
            unit,
            "S-001",
            cycle=1,
            on=C1D1,
            strength=12,
            count=14,
            lot="AN2601",
            expiry="2027-06-30",
            reason="prepared before the pharmacy records were kept",
        )
    return "S-001"


def _take(units, subject, missed=()):
    """Record days 1-14 of cycle 1: taken, except the days listed as missed."""
    with units() as unit:
        for day in range(14):
            on = C1D1 + timedelta(days=day)
            record_dose(unit, subject, on=on, taken=day + 1 not in missed)


def _line(units, subject):
    with units() as unit:
        (line,) = reconciliation_for(unit.session, subject, unit.now)
    return line


def _discrepancy_items(units):
    with units() as unit:
        return [i for i in worklist(unit.session, unit.now) if i.kind == "drug_discrepancy"]


def test_before_the_count_nothing_is_expected_back_yet(units, subject):
    _take(units, subject, missed=(5, 6))
    line = _line(units, subject)
    assert (line.dispensed, line.returned, line.taken_capsules) == (14, None, 12)
    assert (line.expected_return, line.discrepancy) == (2, None)
    assert _discrepancy_items(units) == []


def test_returns_that_match_the_diary_leave_no_discrepancy(units, subject):
    _take(units, subject, missed=(5, 6))
    with units() as unit:
        record_return(unit, subject, cycle=1, on="2026-02-23", strength=12, count=2)
    line = _line(units, subject)
    assert (line.returned, line.expected_return, line.discrepancy) == (2, 2, 0)
    assert _discrepancy_items(units) == []


def test_missing_capsules_show_on_the_worklist_and_pharmacy_until_reviewed(units, subject):
    _take(units, subject, missed=(5, 6))
    with units() as unit:
        record_return(unit, subject, cycle=1, on="2026-02-23", strength=12, count=1)
    assert _line(units, subject).discrepancy == -1
    (item,) = _discrepancy_items(units)
    assert (item.subject, item.what) == (subject, "cycle 1 12 mg")
    assert "1 capsules returned, 2 expected" in item.detail
    with units() as unit:
        listing = preparation_list(unit.session, unit.now, site_code="ZJU1")
    assert [(d.subject, d.cycle, d.discrepancy) for d in listing.discrepancies] == [
        (subject, 1, -1)
    ]
    with units(actor="pharmacist") as unit:
        review(unit, subject, cycle=1, note="subject lost one capsule; documented")
    assert _line(units, subject).reviewed
    assert _discrepancy_items(units) == []


def test_extra_capsules_returned_are_a_discrepancy_too(units, subject):
    _take(units, subject)
    with units() as unit:
        record_return(unit, subject, cycle=1, on="2026-02-23", strength=12, count=1)
    assert _line(units, subject).discrepancy == 1


def test_a_corrected_count_needs_a_reason_and_replaces_the_figure(units, subject):
    _take(units, subject)
    with units() as unit:
        record_return(unit, subject, cycle=1, on="2026-02-23", strength=12, count=1)
    with units() as unit:
        review(unit, subject, cycle=1, note="diary checked")
    with pytest.raises(Conflict, match="give --reason"), units() as unit:
        record_return(unit, subject, cycle=1, on="2026-02-23", strength=12, count=0)
    with units() as unit:
        record_return(
            unit, subject, cycle=1, on="2026-02-23", strength=12, count=0, reason="recounted"
        )
    line = _line(units, subject)
    assert (line.returned, line.discrepancy) == (0, 0)


def test_a_review_needs_a_discrepancy(units, subject):
    with pytest.raises(NotFound, match="no discrepancy"), units() as unit:
        review(unit, subject, cycle=1, note="nothing to see")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"strength": 5}, "strength", "not a capsule strength"),
        ({"expiry": "2026-01-31"}, "expiry", "lot expired"),
        ({"expiry": "2026-03-07"}, "expiry", "before cycle 2's last dosing day 2026-03-08"),
        ({"on": "2026-03-03"}, "date", "in the future"),
        ({"count": 0}, "count", "not between"),
        ({"lot": " "}, "lot", "must not be empty"),
        ({"cycle": 9}, "cycle", "no cycle 9"),
    ],
)
def test_bad_dispensing_input_names_the_field(units, subject, changes, field, message):
    values = {"cycle": 2, "on": "2026-02-23", "strength": 12, "count": 14, "lot": "AN2601"}
    values["expiry"] = "2027-06-30"
    values.update(changes)
    with pytest.raises(InputError, match=message) as error, units() as unit:
        dispense(unit, subject, **values)
    assert error.value.field == field


def test_no_dispensing_while_on_hold(units, subject):
    with units() as unit:
        hold(unit, subject, start="2026-03-01", reason="grade 3 diarrhea")
    with pytest.raises(RuleViolation, match="on hold"), units() as unit:
        dispense(
            unit,
            subject,
            cycle=2,
            on="2026-03-02",
            strength=12,
            count=14,
            lot="A",
            expiry="2027-01-01",
        )


def test_more_returned_than_dispensed_is_refused(units, subject):
    with pytest.raises(InputError, match="only 14 were dispensed"), units() as unit:
        record_return(unit, subject, cycle=1, on="2026-02-23", strength=12, count=15)


def test_relative_dose_intensity_is_mg_taken_over_mg_planned_at_the_starting_dose(units, subject):
    _take(units, subject, missed=(5, 6))
    with units() as unit:
        summary = relative_dose_intensity(plan_for(unit.session, subject, unit.now))
    assert (summary.taken, summary.missed, summary.held) == (12, 2, 0)
    first = summary.cycles[0]
    assert (first.cycle, first.planned_mg, first.taken_mg) == (1, 168, 144)
    assert first.relative_dose_intensity == pytest.approx(144 / 168, abs=1e-4)
