"""A dose change in the middle of a cycle reaches the pharmacy and the patient.

S-001 started cycle 1 on Monday 2026-02-02 (anlotinib 12 mg, days 1-14 of 21), so cycle 2
runs from Monday 2026-02-23: its 14 capsules of 12 mg were dispensed that day and days 1 to 5
were taken. Grade 3 hypertension: dosing is held from C2D6 (Saturday 2026-02-28), and the
investigator resumes it on C2D8 (Monday 2026-03-02) at 10 mg, dose level -1. The clock reads
2026-03-02 noon in Shanghai: today is C2D8, and the patient holds only 12 mg capsules.

The 10 mg capsules for C2D8-D14 are an unscheduled dispensing: 7 capsules, to be ready by the
resumption date, urgent (the protocol's 2 working days of lead time are gone), and the 9 unused
12 mg capsules come back at the next visit. Until the 10 mg capsules are dispensed, the
patient's calendar, reminders and handout say to collect them first, and the nurse's worklist
says the new strength is not dispensed yet. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from cli_runner import run
from sqlmodel import col, select

from calendars import FeedOptions, patient_items
from scheduler.clock import SystemClock
from scheduler.db import get_engine
from scheduler.kernel.subject_state import plan_for, subject_state
from scheduler.models import Reminder
from scheduler.pharmacy.accountability import (
    dispense,
    load_records,
    new_capsule_days,
    prepare,
    reconciliation_for,
    record_return,
)
from scheduler.pharmacy.preparation_list import MID_CYCLE, TO_PREPARE, URGENT, preparation_list
from scheduler.reminders.outbox import set_preference
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.previews import preview_resume
from scheduler.subjects.treatment import hold, resume
from scheduler.worklist.items import worklist

C1D1 = date(2026, 2, 2)
C2D1 = date(2026, 2, 23)
C2D6 = date(2026, 2, 28)
C2D8 = date(2026, 3, 2)
C2D14 = date(2026, 3, 8)
C3D1 = date(2026, 3, 16)


def _at(day: date, hour: int = 4) -> datetime:
    """Noon in Shanghai on ``day`` (04:00 UTC) unless told otherwise."""
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


@pytest.fixture
def subject(units):
    """S-001 on cycle 2, held from C2D6, opted in to e-mail reminders."""
    with units(now=_at(C1D1 - timedelta(days=5))) as unit:
        enroll(unit, "S-001", c1d1=C1D1, surgery="2026-01-05", site_code="ZJU1", dose_time="08:00")
        prepare(unit, "S-001", cycle=1)
        set_preference(unit, "S-001", opted_in=True, channel="email", address="p@example.org")
    with units("pharmacist", now=_at(C1D1)) as unit:
        dispense(
            unit, "S-001", cycle=1, on=C1D1, strength=12, count=14, lot="AN1", expiry="2027-06-30"
        )
    with units("pharmacist", now=_at(C2D1 - timedelta(days=4))) as unit:
        prepare(unit, "S-001", cycle=2)
    with units("pharmacist", now=_at(C2D1)) as unit:
        dispense(
            unit, "S-001", cycle=2, on=C2D1, strength=12, count=14, lot="AN2", expiry="2027-06-30"
        )
    with units(now=_at(C2D6 - timedelta(days=1), 12)) as unit:
        for n in range(5):
            record_dose(unit, "S-001", on=C2D1 + timedelta(days=n), taken=True, at="08:00")
    with units(now=_at(C2D6)) as unit:
        hold(unit, "S-001", start=C2D6, reason="grade 3 hypertension")
    return "S-001"


@pytest.fixture
def resumed(units, subject):
    """Resumed on C2D8 at 10 mg, recorded the day before."""
    with units("investigator", now=_at(C2D8 - timedelta(days=1))) as unit:
        resume(unit, subject, on=C2D8, dose_mg=10)
    return subject


def _unscheduled(units):
    with units() as unit:
        listing = preparation_list(unit.session, unit.now, site_code="ZJU1")
    return [r for r in listing.rows if r.unscheduled]


def _collect_days(units, code):
    with units() as unit:
        state = subject_state(unit.session, code, unit.now)
        records = load_records(unit.session, [state.subject.id or 0])[state.subject.id or 0]
        return new_capsule_days(state.plan(), records)


def _dose_events(units, code):
    with units() as unit:
        plan = plan_for(unit.session, code, unit.now)
        state = subject_state(unit.session, code, unit.now)
        records = load_records(unit.session, [state.subject.id or 0])[state.subject.id or 0]
        items = patient_items(plan, FeedOptions(), new_capsules_on=new_capsule_days(plan, records))
    return {item.key: item for item in items}


def _reminder_bodies(units, code):
    with units() as unit:
        rows = unit.session.exec(
            select(Reminder).where(Reminder.kind == "dose", col(Reminder.status) == "pending")
        ).all()
        return {row.item_key: row.body for row in rows}


def test_the_resumption_preview_shows_the_change_from_c2d8_not_from_cycle_3(
    units, subject, db_url, clock
):
    engine = get_engine(db_url)
    preview = preview_resume(engine, "investigator", clock.now(), subject, on=C2D8, dose_mg=10)
    labels = [level.label for level in preview.diff.levels]
    assert labels[0] == "C2 D8-D14: 12 -> 10 mg, 7 doses"
    assert labels[1:] == [f"C{n} D1-D14: 12 -> 10 mg, 14 doses" for n in range(3, 9)]


def test_the_resumption_at_10_mg_creates_an_urgent_unscheduled_dispensing(units, resumed):
    (row,) = _unscheduled(units)
    assert (row.subject, row.cycle, row.dose_mg, row.status) == ("S-001", 2, 10, TO_PREPARE)
    assert [(line.strength_mg, line.count) for line in row.capsules] == [(10, 7)]
    assert row.prepare_by == C2D8
    assert f"{MID_CYCLE}: C2 D8-D14: 12 -> 10 mg, 7 doses" in row.flags
    assert URGENT in row.flags
    # 14 dispensed, 5 taken on D1-D5, D6-D7 held: 9 capsules of 12 mg are no longer taken.
    assert [(line.strength_mg, line.count) for line in row.expected_back] == [(12, 9)]
    assert "old capsules back at the next visit: 9 x 12 mg" in row.flags


def test_dosing_pharmacy_lists_the_unscheduled_dispensing_today(
    capsys, units, resumed, db_url, monkeypatch, clock
):
    monkeypatch.setattr(SystemClock, "now", lambda self: clock.now())  # the CLI's wall clock
    code, out, _ = run(capsys, "pharmacy", "--json", "--site", "ZJU1", "--db", db_url)
    assert code == 0
    rows = [r for r in json.loads(out)["rows"] if r["unscheduled"]]
    assert [(r["cycle"], r["prepare_by"], r["capsules"], r["status"]) for r in rows] == [
        (2, "2026-03-02", [{"strength_mg": 10, "count": 7}], "to prepare")
    ]


def test_until_dispensed_the_patient_is_told_to_collect_the_new_capsules_first(units, resumed):
    assert _collect_days(units, resumed) == {C2D8 + timedelta(days=n) for n in range(7)}
    events = _dose_events(units, resumed)
    today = events["dose:C2D8"]
    assert "collect new capsules first" in today.summary
    assert "collect your new capsules from the study pharmacy" in today.description
    assert "10 mg" in today.description
    # Doses already taken at 12 mg and later cycles (dispensed at their day 1) say nothing.
    assert "collect" not in events["dose:C2D5"].description
    assert "collect" not in events["dose:C3D1"].description
    bodies = _reminder_bodies(units, resumed)
    assert "Collect your new capsules from the study pharmacy" in bodies["C2D9"]
    assert "10 mg" in bodies["C2D9"]


def test_the_nurse_worklist_says_the_new_strength_is_not_yet_dispensed(units, resumed):
    with units() as unit:
        items = [i for i in worklist(unit.session, unit.now) if i.subject == resumed]
    (item,) = [i for i in items if i.kind == "new_strength"]
    assert item.detail.startswith("new strength not yet dispensed: C2 D8-D14: 12 -> 10 mg")
    assert item.urgency == "today"


def test_once_dispensed_everything_goes_back_to_normal_and_counts_per_strength(units, resumed):
    with units("pharmacist") as unit:
        (prepared,) = prepare(unit, resumed, cycle=2)
        assert (prepared.strength_mg, prepared.capsule_count, prepared.day1) == (10, 7, C2D8)
    with units("pharmacist") as unit:
        dispense(
            unit, resumed, cycle=2, on=C2D8, strength=10, count=7, lot="AN10", expiry="2027-06-30"
        )
    assert _unscheduled(units) == []
    assert _collect_days(units, resumed) == frozenset()
    assert "collect" not in _dose_events(units, resumed)["dose:C2D9"].description
    assert _reminder_bodies(units, resumed)["C2D9"] == (
        "S-001, 2026-03-03: take your 10 mg dose due at 08:00."
    )
    with units() as unit:
        kinds = {i.kind for i in worklist(unit.session, unit.now) if i.subject == resumed}
    assert "new_strength" not in kinds
    # C2D8-D14 taken at 10 mg; at cycle 3 day 1 the 9 unused 12 mg capsules come back.
    with units(now=_at(C2D14 + timedelta(days=1))) as unit:
        for n in range(7):
            record_dose(unit, resumed, on=C2D8 + timedelta(days=n), taken=True, at="08:00")
    with units("pharmacist", now=_at(C3D1)) as unit:
        record_return(unit, resumed, cycle=2, on=C3D1, strength=12, count=9)
        record_return(unit, resumed, cycle=2, on=C3D1, strength=10, count=0)
        lines = reconciliation_for(unit.session, resumed, unit.now)
    cycle2 = {
        (r.strength_mg, r.dispensed, r.taken_capsules, r.discrepancy) for r in lines if r.cycle == 2
    }
    assert cycle2 == {(12, 14, 5, 0), (10, 7, 7, 0)}
