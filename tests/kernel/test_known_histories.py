"""A dose write tells the unit of work the history it leaves, so the refresh at commit does not
load it again: that history must be the one the database holds, and any later change to the
subject in the same unit must make the refresh load it afresh. The fixed clock reads 2026-03-02
noon in Shanghai; S-001 started cycle 1 on 2026-02-02 (doses on 2 to 15 February)."""

import pytest
from sqlmodel import select

from scheduler.kernel.histories import load_histories
from scheduler.models import Subject, SubjectStatus
from scheduler.subjects.corrections import void_record
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold

DOSES = [
    ("2026-02-02", True, None, ""),
    ("2026-02-03", False, None, ""),
    ("2026-02-04", True, "09:30", ""),
    ("2026-02-03", True, "10:00", "diary: taken late, not missed"),
    ("2026-02-03", False, None, "second look at the diary: missed after all"),
    ("2026-02-05", True, None, ""),
]


@pytest.fixture
def subject_id(units) -> int:
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-02", surgery="2026-01-05", site_code="ZJU1")
        found = unit.session.exec(select(Subject.id).where(Subject.code == "S-001")).one()
    assert found is not None
    return found


def _stored(unit, subject_id: int):
    unit.session.flush()
    return load_histories(unit.session, [subject_id])[subject_id]


def test_each_dose_write_knows_the_history_the_database_holds(units, subject_id):
    for day, taken, at, reason in DOSES:
        with units() as unit:
            record_dose(unit, "S-001", on=day, taken=taken, at=at, reason=reason)
            assert unit.known_histories[subject_id] == _stored(unit, subject_id)


def test_a_dose_written_after_a_void_knows_the_void(units, subject_id):
    with units() as unit:
        first = record_dose(unit, "S-001", on="2026-02-06", taken=True)
    with units() as unit:
        void_record(unit, "S-001", "dose", first.record.id or 0, "entered for the wrong subject")
    with units() as unit:
        record_dose(unit, "S-001", on="2026-02-06", taken=False)
        known = unit.known_histories[subject_id]
        assert known == _stored(unit, subject_id)
    assert [d.id for d in known.doses] != [first.record.id]


def test_a_hold_after_a_dose_in_the_same_unit_is_in_the_refreshed_rows(units, subject_id):
    with units() as unit:
        record_dose(unit, "S-001", on="2026-02-02", taken=True)
        hold(unit, "S-001", start="2026-03-02", reason="grade 3 hypertension")
        assert subject_id not in unit.known_histories
    with units() as unit:
        status = unit.session.get(SubjectStatus, subject_id)
    assert status is not None and status.status == "on_hold"
