"""Recording what happened, on SQLite and PostgreSQL: doses, holds, adverse events, visits,
discontinuation, and corrections that never overwrite. The fixed clock reads 2026-03-02 noon in
Shanghai; subject S-001 started cycle 1 on 2026-02-02 and is in the rest days of cycle 1."""

from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from scheduler.errors import Conflict, InputError, NotFound, RuleViolation
from scheduler.kernel.subject_state import plan_for
from scheduler.models import AuditEntry, DoseRecord, Hold, Void
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.corrections import void_record
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import discontinue, hold, resume
from scheduler.subjects.visits import record_visit

LATER = datetime(2026, 4, 20, 4, 0, tzinfo=UTC)


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(
            unit,
            "S-001",
            c1d1="2026-02-02",
            surgery="2026-01-05",
            site_code="ZJU1",
            dose_time="08:00",
        )
    return "S-001"


def _count(unit, table):
    return unit.session.exec(select(func.count()).select_from(table)).one()


def test_a_dose_taken_ninety_minutes_late_is_recorded_late(units, subject):
    with units() as unit:
        result = record_dose(unit, subject, on="2026-02-03", taken=True, at="09:30")
    assert (result.slot.key, result.slot.status, result.slot.late_minutes) == ("C1D2", "late", 90)


def test_a_second_record_of_a_dose_needs_a_reason_and_keeps_the_first(units, subject):
    with units() as unit:
        record_dose(unit, subject, on="2026-02-03", taken=True)
    with pytest.raises(Conflict, match="give --reason") as error, units() as unit:
        record_dose(unit, subject, on="2026-02-03", taken=False)
    assert error.value.field == "date"
    with units() as unit:
        corrected = record_dose(
            unit, subject, on="2026-02-03", taken=False, reason="diary says vomited, not taken"
        )
    with units() as unit:
        assert _count(unit, DoseRecord) == 2
        actions = unit.session.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert corrected.corrected and corrected.slot.status == "missed"
    assert actions[-2:] == ["dose.record", "dose.correct"]


@pytest.mark.parametrize(
    ("day", "field", "message"),
    [
        ("2026-02-20", "date", "C1 D19, a rest day"),
        ("2026-01-20", "date", "before cycle 1 day 1"),
        ("2026-03-05", "date", "in the future"),
        ("2026-02-31", "date", "not a real date"),
    ],
)
def test_a_dose_outside_the_plan_is_refused_and_nothing_is_stored(
    units, subject, day, field, message
):
    with pytest.raises(InputError, match=message) as error, units() as unit:
        record_dose(unit, subject, on=day, taken=True)
    assert error.value.field == field
    with units() as unit:
        assert _count(unit, DoseRecord) == 0
        assert unit.session.exec(select(AuditEntry).where(AuditEntry.entity == "dose")).all() == []


def test_a_dose_during_a_hold_is_refused(units, subject):
    with units() as unit:
        hold(unit, subject, start="2026-02-10", reason="grade 3 hypertension")
    with pytest.raises(RuleViolation, match="falls in the hold from 2026-02-10"), units() as unit:
        record_dose(unit, subject, on="2026-02-12", taken=True)


def test_a_hold_over_recorded_doses_is_refused_until_they_are_corrected(units, subject):
    with units() as unit:
        record_dose(unit, subject, on="2026-02-11", taken=True)
    with pytest.raises(Conflict, match="2026-02-11") as error, units() as unit:
        hold(unit, subject, start="2026-02-10", reason="grade 3 hypertension")
    assert error.value.field == "from"
    with units() as unit:
        assert _count(unit, Hold) == 0


def test_resume_without_a_hold_is_refused(units, subject):
    with pytest.raises(RuleViolation, match="no hold to resume") as error, units() as unit:
        resume(unit, subject, on="2026-02-10")
    assert error.value.field == "on"


def test_a_dose_level_not_in_the_protocol_is_refused(units, subject):
    with units() as unit:
        hold(unit, subject, start="2026-02-10", reason="grade 3 rash")
    with pytest.raises(InputError, match="not a dose level") as error, units() as unit:
        resume(unit, subject, on="2026-02-14", dose_mg=11)
    assert error.value.field == "dose_mg"


def test_a_grade_3_hypertension_proposes_hold_and_resume_at_10_mg(units, subject):
    with units() as unit:
        result = record_adverse_event(
            unit, subject, term="Hypertension", grade=3, onset="2026-02-10"
        )
    assert result.proposal.action == "hold_then_reduce"
    assert result.proposal.resume_dose_mg == 10
    assert result.record.proposed_action == "hold_then_reduce"


def test_the_hold_resume_cycle_through_the_service_delays_cycle_2_and_reduces_it(units, subject):
    with units() as unit:
        hold(unit, subject, start="2026-02-20", reason="grade 3 hypertension")
    with units(now=LATER) as unit:
        resume(unit, subject, on="2026-02-27", dose_mg=10, reason="BP grade 1")
    with units(now=LATER) as unit:
        plan = plan_for(unit.session, subject, unit.now)
    second = plan.cycles[1]
    assert (str(second.day1), second.delay_days, second.dose_mg) == ("2026-02-27", 4, 10)


def test_a_visit_outside_its_window_needs_a_deviation_reason(units, subject):
    with pytest.raises(InputError) as error, units() as unit:
        record_visit(unit, subject, "C1D15", on="2026-02-20")
    assert str(error.value) == (
        "on: Expected a date between 2026-02-14 and 2026-02-18 for C1D15. Got 2026-02-20. "
        "Give --reason to record it as a deviation."
    )
    with units() as unit:
        visit = record_visit(unit, subject, "C1D15", on="2026-02-20", reason="patient had flu")
    assert (visit.status, visit.deviation) == ("done", "patient had flu")


def test_an_unknown_visit_code_is_not_found(units, subject):
    with pytest.raises(NotFound) as error, units() as unit:
        record_visit(unit, subject, "C9D1", on="2026-02-20")
    assert error.value.field == "code"


def test_discontinuation_cancels_remaining_doses_and_anchors_eot_to_the_last_dose(units, subject):
    with units() as unit:
        for day in ("2026-02-02", "2026-02-03", "2026-02-04"):
            record_dose(unit, subject, on=day, taken=True)
    with units() as unit:
        plan = discontinue(unit, subject, on="2026-02-05", reason="withdrawal")
    statuses = {s.status for s in plan.doses() if str(s.date) >= "2026-02-05"}
    assert statuses == {"cancelled"}
    assert str(plan.visit("EOT").target) == "2026-03-04"
    with pytest.raises(Conflict, match="already discontinued"), units() as unit:
        discontinue(unit, subject, on="2026-02-06", reason="toxicity")


def test_an_unknown_discontinuation_reason_is_refused(units, subject):
    with pytest.raises(InputError) as error, units() as unit:
        discontinue(unit, subject, on="2026-02-05", reason="bored")
    assert error.value.field == "reason"


def test_voiding_a_hold_keeps_the_record_and_restores_the_plan(units, subject):
    with units() as unit:
        hold(unit, subject, start="2026-02-10", reason="entered for the wrong subject")
    with units() as unit:
        hold_id = unit.session.exec(select(Hold.id)).one()
        plan = void_record(unit, subject, "hold", hold_id, "wrong subject")
    assert all(s.status != "held" for s in plan.doses())
    with units() as unit:
        assert _count(unit, Hold) == 1
        assert unit.session.exec(select(Void.reason)).one() == "wrong subject"
    with pytest.raises(Conflict, match="already voided"), units() as unit:
        void_record(unit, subject, "hold", hold_id, "again")


def test_voiding_a_hold_that_was_resumed_requires_voiding_the_resumption_first(units, subject):
    with units() as unit:
        hold(unit, subject, start="2026-02-10", reason="rash")
    with units() as unit:
        resume(unit, subject, on="2026-02-12")
    with pytest.raises(RuleViolation, match="no hold to resume"), units() as unit:
        hold_id = unit.session.exec(select(Hold.id)).one()
        void_record(unit, subject, "hold", hold_id, "not needed")
