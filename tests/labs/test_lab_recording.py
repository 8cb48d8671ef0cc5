"""Recording results: units converted by pint, graded against the baseline, bad input refused
with the field named and nothing stored, on SQLite and PostgreSQL.

The subject has surgery on 2026-01-20 and C1D1 on 2026-03-02; the suite's clock reads
2026-03-02 12:00 in Shanghai, so results up to that day can be recorded."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from scheduler.errors import InputError, NotFound
from scheduler.kernel.subject_state import subject_state
from scheduler.labs.baselines import correct_baseline
from scheduler.labs.history import subject_labs
from scheduler.labs.results import record_result
from scheduler.models import AdverseEvent, AuditEntry, LabResult
from scheduler.subjects.enrolment import enroll


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-1", c1d1="2026-03-02", surgery="2026-01-20", site_code="ZJU1")
    return "S-1"


def _count(units, model) -> int:
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(model)).one()


def _labs(units, code, now=None):
    with units(now=now) as unit:
        return subject_labs(unit.session, subject_state(unit.session, code, unit.now))


def test_bilirubin_in_umol_per_litre_is_converted_to_mg_per_dl_and_graded(units, subject):
    with units() as unit:
        result = record_result(
            unit, subject, test="TBIL", value="41", unit_text="umol/L", uln=20.5, on="2026-02-20"
        )
    row = result.rows[0]
    assert row.value == 41 and row.unit == "umol/L"
    assert row.value_std == pytest.approx(2.397, abs=0.001)  # 41 / 17.1
    assert row.uln_std == pytest.approx(1.199, abs=0.001)
    assert result.grades == {"TBIL": 2}  # 2.0 x ULN: > 1.5 - 3.0 x ULN


def test_haemoglobin_in_g_per_litre_grades_as_in_g_per_dl(units, subject):
    with units() as unit:
        result = record_result(
            unit, subject, test="HGB", value="95", unit_text="g/L", lln=120, on="2026-02-20"
        )
    assert result.rows[0].value_std == pytest.approx(9.5)
    assert result.grades == {"HGB": 2}


def test_the_last_result_before_c1d1_is_the_baseline_and_can_be_corrected_with_a_reason(
    units, subject, clock
):
    with units() as unit:
        first = record_result(
            unit, subject, test="ALT", value="30", unit_text="U/L", uln=40, on="2026-02-16"
        ).rows[0]
        second = record_result(
            unit, subject, test="ALT", value="90", unit_text="U/L", uln=40, on="2026-02-25"
        ).rows[0]
    labs = _labs(units, subject)
    assert labs.baselines["ALT"].id == second.id
    assert [r.is_baseline for r in labs.of_test("ALT")] == [False, True]
    with pytest.raises(InputError) as error, units() as unit:
        correct_baseline(unit, subject, test="ALT", result_id=first.id, reason=" ")
    assert error.value.field == "reason"
    with units() as unit:
        correct_baseline(
            unit, subject, test="ALT", result_id=first.id, reason="25 Feb sample haemolysed"
        )
    labs = _labs(units, subject)
    assert labs.baselines["ALT"].id == first.id
    assert labs.corrections["ALT"].reason == "25 Feb sample haemolysed"
    with units() as unit:
        actions = unit.session.exec(select(AuditEntry.action)).all()
    assert "lab.baseline" in actions


def test_an_abnormal_baseline_regrades_a_liver_result_against_the_baseline(units, subject):
    with units() as unit:
        record_result(
            unit, subject, test="ALT", value="100", unit_text="U/L", uln=40, on="2026-02-25"
        )
        result = record_result(
            unit, subject, test="ALT", value="130", unit_text="U/L", uln=40, on="2026-03-02"
        )
    assert result.grades == {"ALT": 0}  # 1.3 x an abnormal baseline; 3.25 x ULN would be 2


def test_a_blood_pressure_reading_records_systolic_and_diastolic(units, subject):
    with units() as unit:
        result = record_result(
            unit, subject, test="BP", value="150/85", unit_text="mmHg", on="2026-02-25"
        )
    assert [(r.test, r.value) for r in result.rows] == [("SBP", 150.0), ("DBP", 85.0)]
    assert result.grades == {"SBP": 2, "DBP": 1}


def test_a_second_result_on_the_same_day_corrects_the_first_and_needs_a_reason(units, subject):
    with units() as unit:
        first = record_result(
            unit, subject, test="PLT", value="80", unit_text="10^9/L", lln=125, on="2026-02-25"
        ).rows[0]
    with pytest.raises(InputError) as error, units() as unit:
        record_result(
            unit, subject, test="PLT", value="180", unit_text="10^9/L", lln=125, on="2026-02-25"
        )
    assert error.value.field == "reason"
    with units() as unit:
        fixed = record_result(
            unit,
            subject,
            test="PLT",
            value="180",
            unit_text="10^9/L",
            lln=125,
            on="2026-02-25",
            reason="typed 80 for 180",
        ).rows[0]
    assert fixed.corrects_id == first.id
    assert [r.row.value for r in _labs(units, subject).of_test("PLT")] == [180.0]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"test": "XYZ"}, "test"),
        ({"unit_text": "mg/dL"}, "unit"),
        ({"unit_text": "furlongs"}, "unit"),
        ({"unit_text": None}, "unit"),
        ({"value": "-3"}, "value"),
        ({"value": "eighty"}, "value"),
        ({"value": "nan"}, "value"),
        ({"on": "2026-01-01"}, "date"),
        ({"on": "2026-03-03"}, "date"),
        ({"lln": 50, "uln": 40}, "lln"),
        ({"uln": None}, "uln"),
        ({"uln": -40}, "uln"),
        ({"source": "phone"}, "source"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    units, subject, changes, field
):
    arguments = {
        "test": "ALT",
        "value": "88",
        "unit_text": "U/L",
        "uln": 40,
        "on": "2026-02-25",
    } | changes
    with pytest.raises(InputError) as error, units() as unit:
        record_result(unit, subject, **arguments)
    assert error.value.field == field
    assert _count(units, LabResult) == 0


def test_a_baseline_correction_names_a_result_of_the_test(units, subject):
    with units() as unit:
        plt = record_result(
            unit, subject, test="PLT", value="180", unit_text="10^9/L", lln=125, on="2026-02-25"
        ).rows[0]
    with pytest.raises(InputError) as error, units() as unit:
        correct_baseline(unit, subject, test="ALT", result_id=plt.id, reason="wrong test")
    assert error.value.field == "result"
    with pytest.raises(NotFound), units() as unit:
        correct_baseline(unit, subject, test="ALT", result_id=9999, reason="no such result")


def test_results_before_c1d1_are_history_not_adverse_events(units, subject):
    with units() as unit:
        result = record_result(
            unit, subject, test="ALT", value="400", unit_text="U/L", uln=40, on="2026-02-25"
        )
    assert result.grades == {"ALT": 3}
    assert result.events == []
    assert _count(units, AdverseEvent) == 0
