"""The worklist shows what the results ask for: an adverse event's proposal until the
investigator acts, a 24 h urine protein after a 2+ dipstick, a home blood pressure at the alert
level. On SQLite and PostgreSQL; C1D1 is 2026-03-02, the units run on 2026-03-20."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduler.errors import InputError
from scheduler.labs.results import record_result
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold
from scheduler.worklist.items import worklist

ON_TREATMENT = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-1", c1d1="2026-03-02", surgery="2026-01-20", site_code="ZJU1")
    return "S-1"


def _lab(units, **arguments):
    with units(now=ON_TREATMENT) as unit:
        return record_result(unit, "S-1", **arguments)


def _items(units, kind):
    with units(now=ON_TREATMENT) as unit:
        return [i for i in worklist(unit.session, unit.now) if i.kind == kind]


def test_a_graded_result_s_proposal_is_listed_until_the_investigator_holds(units, subject):
    _lab(units, test="ALT", value="250", unit_text="U/L", uln=40, on="2026-03-16")
    [item] = _items(units, "ae_proposal")
    assert item.subject == "S-1" and item.urgency == "overdue"
    assert item.what == "alanine aminotransferase increased grade 3"
    assert "hold_then_reduce" in item.detail
    with units(now=ON_TREATMENT) as unit:
        hold(unit, "S-1", start="2026-03-17", reason="ALT grade 3")
    assert _items(units, "ae_proposal") == []


def test_a_typed_adverse_event_s_proposal_is_listed_the_same_way(units, subject):
    with units(now=ON_TREATMENT) as unit:
        record_adverse_event(unit, "S-1", term="diarrhea", grade=3, onset="2026-03-16")
    [item] = _items(units, "ae_proposal")
    assert item.what == "diarrhea grade 3"


def test_a_2_plus_dipstick_lists_a_24h_urine_protein_until_one_is_recorded(units, subject):
    _lab(units, test="UPRO_DIP", value="2+", unit_text=None, on="2026-03-16")
    [item] = _items(units, "urine_protein_due")
    assert item.what == "24 h urine protein due"
    _lab(units, test="UPRO_24H", value="0.6", unit_text="g/24h", uln=0.15, on="2026-03-18")
    assert _items(units, "urine_protein_due") == []


def test_a_home_blood_pressure_of_160_100_on_a_cycle_1_dosing_day_lists_the_subject(units, subject):
    _lab(units, test="BP", value="150/95", unit_text="mmHg", on="2026-03-10", source="home")
    assert _items(units, "home_bp") == []
    _lab(units, test="BP", value="162/95", unit_text="mmHg", on="2026-03-11", source="home")
    [item] = _items(units, "home_bp")
    assert "162/95 mmHg at home on 2026-03-11" in item.detail


def test_a_home_reading_off_the_dosing_days_of_cycles_1_and_2_is_refused(units, subject):
    with pytest.raises(InputError) as error:
        _lab(units, test="BP", value="150/95", unit_text="mmHg", on="2026-03-18", source="home")
    assert error.value.field == "date"  # cycle 1 day 17: a rest day
    with pytest.raises(InputError) as error:
        _lab(units, test="ALT", value="50", unit_text="U/L", uln=40, on="2026-03-10", source="home")
    assert error.value.field == "test"
