"""The derived rows stay in step with the records, and the indexed worklist lists exactly what
the plans say (checked against the plans themselves on the demo trial, over three weeks)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from scheduler.db import get_engine
from scheduler.models import DoseRecord, MissedDose, ScheduledVisit, Subject, SubjectStatus
from scheduler.services.accountability import load_records
from scheduler.services.demo import seed_demo
from scheduler.services.doses import record_dose
from scheduler.services.sites import ensure_default_site
from scheduler.services.subjects import SubjectState, all_subjects, enroll, states
from scheduler.services.worklist import worklist
from scheduler.services.worklist_rows import rows_for


def _demo(units, settings) -> None:
    with units() as unit:
        seed_demo(unit, ensure_default_site(unit, settings))


def _states(unit) -> list[SubjectState]:
    return states(unit.session, all_subjects(unit.session), unit.now)


def _stored(unit, table, subject_id: int, fields: list[str]) -> list[tuple]:
    rows = unit.session.exec(select(table).where(table.subject_id == subject_id)).all()
    return sorted((tuple(getattr(r, f) for f in fields) for r in rows), key=repr)


def test_every_change_through_the_services_leaves_the_rows_equal_to_a_fresh_derivation(
    units, settings
):
    _demo(units, settings)
    with units() as unit:
        subject_states = _states(unit)
        records = load_records(unit.session, [s.subject.id or 0 for s in subject_states])
        for state in subject_states:
            sid = state.subject.id or 0
            fresh = rows_for(state.plan(), sid, state.site.id or 0, state.site.code, records[sid])
            for table, expected in fresh.by_table():
                fields = sorted(expected[0]) if expected else ["subject_id"]
                want = sorted((tuple(row[f] for f in fields) for row in expected), key=repr)
                assert _stored(unit, table, sid, fields) == want, (state.subject.code, table)


def _expected_visit_items(state: SubjectState, day: date) -> set[tuple[str, str, str]]:
    """What the worklist must list, computed the slow way: from the plan itself."""
    found = set()
    for visit in state.plan().visits:
        if visit.status in ("done", "cancelled") or visit.tentative or visit.window_start > day:
            continue
        if visit.target == day:
            kind = "visit_due"
        elif visit.window_end < day:
            kind = "visit_overdue"
        else:
            kind = "visit_in_window"
        found.add((state.subject.code, kind, visit.code))
    return found


def test_the_indexed_visit_items_are_those_the_plans_give_day_by_day(units, settings):
    _demo(units, settings)
    with units() as unit:
        subject_states = _states(unit)
        today = subject_states[0].today
        for offset in range(-7, 15):
            day = today + timedelta(days=offset)
            listed = {
                (i.subject, i.kind, i.visit_code)
                for i in worklist(unit.session, unit.now, on=day)
                if i.kind.startswith("visit_")
            }
            expected = set().union(*(_expected_visit_items(s, day) for s in subject_states))
            assert listed == expected, day


def test_the_hold_rows_are_the_plans_current_holds(units, settings):
    _demo(units, settings)
    with units() as unit:
        subject_states = _states(unit)
        on_hold = {i.subject for i in worklist(unit.session, unit.now) if i.kind == "on_hold"}
        assert on_hold == {s.subject.code for s in subject_states if s.plan().current_hold()}
        assert on_hold == {"DEMO-004"}


def test_the_demo_fills_every_derived_table(units, settings):
    _demo(units, settings)
    with units() as unit:
        assert len(unit.session.exec(select(SubjectStatus)).all()) == 5
        assert unit.session.exec(select(ScheduledVisit)).first() is not None
        assert unit.session.exec(select(MissedDose)).first() is not None  # DEMO-002's C1D6


def test_a_change_committed_meanwhile_by_another_transaction_is_in_the_rows(units, db_url):
    """PostgreSQL: the refresher locks the subject, then reads its records again, so a record
    another transaction commits while this one waits is not lost from the worklist rows."""
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite runs one writer at a time")
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-23", surgery="2026-01-05", site_code="ZJU1")
    with Session(get_engine(db_url)) as other:
        # Blocks the refresher's FOR UPDATE, not the dose insert's key-share check.
        subject = other.exec(
            select(Subject)
            .where(Subject.code == "S-001")
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE
        ).one()
        finished = threading.Event()

        def record_first_dose() -> None:
            with units() as unit:
                record_dose(unit, "S-001", on="2026-02-23", taken=True)
            finished.set()

        worker = threading.Thread(target=record_first_dose)
        worker.start()
        assert not finished.wait(1.0), "the refresher should wait for the subject's lock"
        other.add(
            DoseRecord(
                subject_id=subject.id or 0,
                dose_date=date(2026, 3, 1),
                taken=False,
                recorded_at=datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
                recorded_by="other-nurse",
            )
        )
        other.commit()
    worker.join(timeout=30)
    assert finished.is_set()
    with units() as unit:
        missed = unit.session.exec(select(MissedDose.dose_date)).all()
    assert missed == [date(2026, 3, 1)]
