from datetime import time

import pytest
from sqlmodel import select

from scheduler.errors import Conflict, InputError, NotFound
from scheduler.kernel.subject_state import plan_for
from scheduler.models import AuditEntry, Subject
from scheduler.subjects.enrolment import change_anchor, enroll


def test_enrolling_a_subject_stores_the_anchors_and_audits_who_did_it(units):
    with units(actor="nurse.li") as unit:
        subject = enroll(unit, "S-001", c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1")
    with units() as unit:
        stored = unit.session.exec(select(Subject).where(Subject.code == "S-001")).one()
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "subject.enroll")
        ).one()
    assert stored.time_zone == "Asia/Shanghai"
    assert stored.dose_time == time(7, 0)  # the protocol's, before breakfast
    assert entry.actor == "nurse.li"
    assert entry.subject_id == subject.id
    assert '"c1d1": "2026-03-02"' in (entry.new_value or "")


def test_a_duplicate_subject_is_refused(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1")
    with pytest.raises(Conflict) as error, units() as unit:
        enroll(unit, "S-001", c1d1="2026-03-09", surgery="2026-02-01", site_code="ZJU1")
    assert error.value.field == "subject"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"c1d1": "2026-02-30"}, "c1d1"),
        ({"c1d1": "2026-01-01"}, "c1d1"),
        ({"time_zone": "Mars/Olympus"}, "tz"),
        ({"dose_time": "25:00"}, "dose_time"),
        ({"site_code": "NOPE"}, "site"),
        ({"protocol_id": "NCT00000000"}, "protocol"),
        ({"code": "New"}, "subject"),  # /subjects/new is the enrolment form
    ],
)
def test_bad_enrollment_input_names_the_field_and_stores_nothing(units, changes, field):
    arguments = {"c1d1": "2026-03-02", "surgery": "2026-02-01", "site_code": "ZJU1"} | changes
    code = arguments.pop("code", "S-001")
    with pytest.raises(InputError) as error, units() as unit:
        enroll(unit, code, **arguments)
    assert error.value.field == field
    with units() as unit:
        assert unit.session.exec(select(Subject)).all() == []


def test_a_twice_daily_regimen_needs_a_first_dose_before_noon(units):
    with pytest.raises(InputError, match="before 12:00") as error, units() as unit:
        enroll(
            unit,
            "S-002",
            c1d1="2026-03-02",
            surgery="2026-02-01",
            site_code="ZJU1",
            protocol_id="EXAMPLE-CAPE-BID",
            dose_time="13:00",
        )
    assert error.value.field == "dose_time"


def test_an_unknown_subject_is_not_found(units):
    with pytest.raises(NotFound) as error, units() as unit:
        plan_for(unit.session, "GHOST", unit.now)
    assert error.value.field == "subject"


def test_moving_the_dose_time_is_audited_with_old_value_new_value_and_reason(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1")
    with units(actor="dr.wang") as unit:
        change_anchor(unit, "S-001", "dose_time", "21:00", "works night shifts")
    with units() as unit:
        plan = plan_for(unit.session, "S-001", unit.now)
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "subject.change_dose_time")
        ).one()
    assert plan.cycles[0].doses[0].time == time(21, 0)
    assert (entry.actor, entry.old_value, entry.new_value, entry.reason) == (
        "dr.wang",
        '"07:00:00"',
        '"21:00"',
        "works night shifts",
    )
