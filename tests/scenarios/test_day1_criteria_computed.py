"""Day-1 criteria computed from the results recorded within 3 days before day 1 (protocol
version 4), confirmed through the existing day-1 check. C1D1 is 2026-03-02, so cycle 2's day 1
is 2026-03-23; the units run on 2026-03-22 (Shanghai). On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduler.errors import Conflict
from scheduler.kernel.subject_state import plan_for, subject_state
from scheduler.labs.day1 import confirm_computed_day1, evaluate_day1
from scheduler.labs.results import record_result
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.enrolment import enroll

NOW = datetime(2026, 3, 22, 4, 0, tzinfo=UTC)
PANEL = {
    "ANC": ("2.1", "10^9/L", {"lln": 1.8}),
    "PLT": ("180", "10^9/L", {"lln": 125}),
    "TBIL": ("15", "umol/L", {"uln": 20.5}),
    "ALT": ("45", "U/L", {"uln": 40}),
    "AST": ("38", "U/L", {"uln": 35}),
    "UPRO_DIP": ("neg", None, {}),
    "BP": ("135/85", "mmHg", {}),
}


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-1", c1d1="2026-03-02", surgery="2026-01-20", site_code="ZJU1")
    return "S-1"


def _record(units, on="2026-03-21", **changes):
    panel = PANEL | changes
    with units(now=NOW) as unit:
        for test, (value, unit_text, limits) in panel.items():
            if value is not None:
                record_result(
                    unit, "S-1", test=test, value=value, unit_text=unit_text, on=on, **limits
                )


def _evaluate(units):
    with units(now=NOW) as unit:
        return evaluate_day1(unit.session, subject_state(unit.session, "S-1", unit.now), 2)


def test_cycle_2_day_1_is_met_when_every_result_within_3_days_meets_its_limit(units, subject):
    _record(units)
    evaluation = _evaluate(units)
    assert (evaluation.day1.isoformat(), evaluation.since.isoformat()) == (
        "2026-03-23",
        "2026-03-20",
    )
    assert evaluation.verdict == "met"
    with units(now=NOW) as unit:
        _, check = confirm_computed_day1(unit, "S-1", cycle=2)
    assert check.met is True


def test_anc_below_1_5_is_not_met_naming_the_value_and_delays_the_cycle(units, subject):
    _record(units, ANC=("1.2", "10^9/L", {"lln": 1.8}))
    evaluation = _evaluate(units)
    assert evaluation.verdict == "not met"
    # The ANC of 1.2 is also neutrophil count decreased grade 2, an adverse event of its own.
    assert evaluation.failing() == (
        "ANC: ANC 1.2 (at least 1.5); "
        "AE: neutrophil count decreased grade 2 on 2026-03-21: ANC grade 2 now"
    )
    with units(now=NOW) as unit:
        _, check = confirm_computed_day1(unit, "S-1", cycle=2)
    assert check.met is False and check.reason.startswith("computed: ANC: ANC 1.2 (at least 1.5)")
    with units(now=NOW) as unit:
        assert plan_for(unit.session, "S-1", unit.now).waiting_for_criteria().cycle == 2


def test_a_missing_test_makes_it_incomplete_and_confirming_is_refused(units, subject):
    _record(units, PLT=(None, None, {}))
    evaluation = _evaluate(units)
    assert evaluation.verdict == "incomplete"
    assert "PLT: no result within 3 days before day 1: PLT" in evaluation.failing()
    with pytest.raises(Conflict) as refused, units(now=NOW) as unit:
        confirm_computed_day1(unit, "S-1", cycle=2)
    assert refused.value.field == "cycle"


def test_a_result_older_than_the_look_back_does_not_count(units, subject):
    _record(units, on="2026-03-19")
    assert _evaluate(units).verdict == "incomplete"


def test_alt_over_5_x_uln_is_not_met(units, subject):
    _record(units, ALT=("240", "U/L", {"uln": 40}))
    evaluation = _evaluate(units)
    assert evaluation.verdict == "not met"
    assert "ALT_AST: ALT 6 x ULN (at most 5 x ULN)" in evaluation.failing()


def test_a_2_plus_dipstick_with_24h_protein_of_1g_or_less_is_met(units, subject):
    _record(units, UPRO_DIP=("2+", None, {}), UPRO_24H=("0.8", "g/24h", {"uln": 0.15}))
    assert _evaluate(units).verdict == "met"


def test_blood_pressure_of_160_systolic_is_not_met(units, subject):
    _record(units, BP=("160/90", "mmHg", {}))
    evaluation = _evaluate(units)
    assert evaluation.verdict == "not met"
    assert "BP: SBP 160 (below 160)" in evaluation.failing()


def test_a_related_typed_event_of_grade_2_or_more_leaves_it_to_the_investigator(units, subject):
    with units(now=NOW) as unit:
        record_adverse_event(unit, "S-1", term="diarrhea", grade=3, onset="2026-03-10")
    _record(units)
    evaluation = _evaluate(units)
    assert evaluation.verdict == "incomplete"
    assert "recovery not recorded: diarrhea grade 3 on 2026-03-10" in evaluation.failing()


def test_a_graded_event_counts_as_recovered_once_its_test_is_back_to_grade_1(units, subject):
    with units(now=datetime(2026, 3, 12, 4, 0, tzinfo=UTC)) as unit:
        record_result(
            unit, "S-1", test="ALT", value="250", unit_text="U/L", uln=40, on="2026-03-12"
        )
    _record(units, ALT=("210", "U/L", {"uln": 40}))
    evaluation = _evaluate(units)
    assert evaluation.verdict == "not met"
    assert "alanine aminotransferase increased grade 3" in evaluation.failing()
    _record(units, on="2026-03-22", ALT=("60", "U/L", {"uln": 40}))
    assert _evaluate(units).verdict == "met"
