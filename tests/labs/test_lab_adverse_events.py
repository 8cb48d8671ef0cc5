"""A graded result at or above the protocol's threshold records the adverse event through the
same service as a typed one, with the same proposal; on SQLite and PostgreSQL.

C1D1 is 2026-03-02; the units here run on 2026-03-20 (cycle 1 day 19)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from scheduler.errors import InputError
from scheduler.labs.results import record_result
from scheduler.models import AdverseEvent
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.enrolment import enroll

ON_TREATMENT = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-1", c1d1="2026-03-02", surgery="2026-01-20", site_code="ZJU1")
        enroll(unit, "S-2", c1d1="2026-03-02", surgery="2026-01-20", site_code="ZJU1")
    return "S-1"


def _lab(units, code, **arguments):
    with units(now=ON_TREATMENT) as unit:
        return record_result(unit, code, **arguments)


def _events(units) -> int:
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(AdverseEvent)).one()


def test_alt_grade_3_proposes_a_hold_exactly_as_the_typed_event_does(units, subject):
    result = _lab(units, subject, test="ALT", value="250", unit_text="U/L", uln=40, on="2026-03-16")
    assert result.grades == {"ALT": 3}
    [event] = result.events
    assert (event.record.term, event.record.grade) == ("alanine aminotransferase increased", 3)
    assert result.rows[0].adverse_event_id == event.record.id
    with units(now=ON_TREATMENT) as unit:
        typed = record_adverse_event(
            unit, "S-2", term="alanine aminotransferase increased", grade=3, onset="2026-03-16"
        )
    assert event.proposal == typed.proposal
    assert (event.proposal.action, event.proposal.rule_id) == ("hold_then_reduce", "liver-g3")


def test_an_unchanged_grade_is_the_same_event_and_a_worse_one_a_new_event(units, subject):
    _lab(units, subject, test="PLT", value="60", unit_text="10^9/L", lln=125, on="2026-03-09")
    same = _lab(
        units, subject, test="PLT", value="55", unit_text="10^9/L", lln=125, on="2026-03-12"
    )
    worse = _lab(
        units, subject, test="PLT", value="40", unit_text="10^9/L", lln=125, on="2026-03-16"
    )
    assert same.grades == {"PLT": 2} and same.events == []
    assert worse.grades == {"PLT": 3} and len(worse.events) == 1
    assert _events(units) == 2


def test_a_grade_below_the_threshold_records_no_event(units, subject):
    result = _lab(units, subject, test="ALT", value="88", unit_text="U/L", uln=40, on="2026-03-16")
    assert result.grades == {"ALT": 1}
    assert result.events == [] and _events(units) == 0


def test_a_dipstick_2_plus_records_no_adverse_event(units, subject):
    result = _lab(units, subject, test="UPRO_DIP", value="2+", unit_text=None, on="2026-03-16")
    assert result.grades == {"UPRO_DIP": 2}
    assert result.events == []


def test_a_24h_urine_protein_over_1g_proposes_a_hold(units, subject):
    result = _lab(
        units, subject, test="UPRO_24H", value="1400", unit_text="mg/24h", uln=150, on="2026-03-16"
    )
    [event] = result.events
    assert (event.record.term, event.record.grade) == ("proteinuria", 2)
    assert event.proposal.rule_id == "proteinuria"


def test_hys_law_pattern_on_one_day_proposes_discontinuation(units, subject):
    _lab(units, subject, test="ALT", value="130", unit_text="U/L", uln=40, on="2026-03-16")
    result = _lab(
        units, subject, test="TBIL", value="43", unit_text="umol/L", uln=20.5, on="2026-03-16"
    )
    hys = [e for e in result.events if e.record.term == "hy's law pattern"]
    assert len(hys) == 1
    assert (hys[0].proposal.action, hys[0].proposal.rule_id) == ("discontinue", "hys-law")


def test_a_raised_tsh_proposes_thyroid_replacement(units, subject):
    result = _lab(
        units, subject, test="TSH", value="9.1", unit_text="mIU/L", uln=4.2, on="2026-03-16"
    )
    [event] = result.events
    assert event.record.term == "hypothyroidism"
    assert (event.proposal.action, event.proposal.rule_id) == ("continue", "thyroid")


def test_a_typed_grade_4_of_a_term_without_grade_4_is_refused(units, subject):
    with pytest.raises(InputError) as error, units(now=ON_TREATMENT) as unit:
        record_adverse_event(
            unit,
            subject,
            term="Palmar-plantar erythrodysesthesia syndrome",
            grade=4,
            onset="2026-03-16",
        )
    assert error.value.field == "grade"
    assert "highest is 3" in str(error.value)
    assert _events(units) == 0


def test_a_home_reading_records_no_adverse_event(units, subject):
    result = _lab(
        units, subject, test="BP", value="170/105", unit_text="mmHg", on="2026-03-13", source="home"
    )
    assert result.grades == {"SBP": 3, "DBP": 3}
    assert result.events == []
