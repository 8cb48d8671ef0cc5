"""Demo subjects whose histories are placed relative to today, so the demo always shows a live
trial: someone in screening, someone on treatment, a dose reduction after a hold that delayed a
cycle, someone on hold now, and a discontinuation for relapse."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import col, select

from scheduler.clock import local_today
from scheduler.db import get_engine
from scheduler.errors import InputError
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.unit import Unit
from scheduler.models import ROLES, Site, StaffUser, Subject
from scheduler.staff.accounts import create_staff
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import discontinue, hold, resume
from scheduler.subjects.visits import record_visit

DEMO_CODES = ("DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004", "DEMO-005")
DEMO_PASSWORD = "demo-password"
"""The password of every demo account (``demo-nurse``, ``demo-investigator``, ...). The demo
database is for trying the software on one's own machine; real accounts come from
``dosing user add``."""


def _keep_up(unit: Unit, code: str, until: date, skip: tuple[date, ...] = ()) -> None:
    """Record every visit whose window has closed, and every dose before ``until`` as taken."""
    state = subject_state(unit.session, code, unit.now)
    plan = state.plan()
    for visit in plan.visits:
        if visit.status == "overdue":
            record_visit(unit, code, visit.code, on=visit.target)
    for slot in plan.doses():
        if slot.status == "planned" and slot.date < until and slot.date not in skip:
            record_dose(unit, code, on=slot.date, taken=True)


def seed_demo(unit: Unit, site: Site) -> list[str]:
    """Enroll the demo subjects unless they exist; returns the codes it created."""
    existing = set(
        unit.session.exec(select(Subject.code).where(col(Subject.code).in_(DEMO_CODES))).all()
    )
    if existing:
        return []
    today = local_today(unit.now, site.time_zone)
    created: list[str] = []

    def start(code: str, c1d1: date, dose_time: str = "08:00") -> date:
        enroll(
            unit,
            code,
            c1d1=c1d1,
            surgery=c1d1 - timedelta(days=35),
            site_code=site.code,
            dose_time=dose_time,
        )
        created.append(code)
        return c1d1

    # Screening: first dose next week.
    start("DEMO-001", today + timedelta(days=6))

    # On treatment in cycle 2; cycle 1 diary entered with one late and one missed dose.
    c1 = start("DEMO-002", today - timedelta(days=25), "09:00")
    record_dose(unit, "DEMO-002", on=c1 + timedelta(days=5), taken=False)
    record_dose(unit, "DEMO-002", on=c1 + timedelta(days=8), taken=True, at="14:30")
    _keep_up(unit, "DEMO-002", today - timedelta(days=3))

    # Grade 3 hypertension on C2D9: hold, cycle 3 delayed 5 days, resumed at 10 mg.
    c1 = start("DEMO-003", today - timedelta(days=60))
    _keep_up(unit, "DEMO-003", c1 + timedelta(days=21 + 8))
    c2d9 = c1 + timedelta(days=21 + 8)
    event = record_adverse_event(unit, "DEMO-003", term="hypertension", grade=3, onset=c2d9)
    hold(
        unit,
        "DEMO-003",
        start=c2d9,
        reason="grade 3 hypertension",
        adverse_event_id=event.record.id,
    )
    resume(
        unit,
        "DEMO-003",
        on=c1 + timedelta(days=42 + 5),
        dose_mg=event.proposal.resume_dose_mg,
        reason="BP grade 1 on amlodipine",
    )
    _keep_up(unit, "DEMO-003", today)

    # On hold since three days ago for grade 3 diarrhoea.
    c1 = start("DEMO-004", today - timedelta(days=30))
    _keep_up(unit, "DEMO-004", today - timedelta(days=3))
    onset = today - timedelta(days=3)
    event = record_adverse_event(unit, "DEMO-004", term="diarrhea", grade=3, onset=onset)
    hold(unit, "DEMO-004", start=onset, reason="grade 3 diarrhea", adverse_event_id=event.record.id)

    # Relapse found at the cycle 4 visit.
    c1 = start("DEMO-005", today - timedelta(days=75), "20:00")
    _keep_up(unit, "DEMO-005", c1 + timedelta(days=63))
    discontinue(unit, "DEMO-005", on=c1 + timedelta(days=63), reason="relapse", note="imaging")
    return created


def reset_sqlite_file(url: str) -> Path | None:
    """Delete the demo's SQLite file (and its WAL and shared-memory files): the audit trail and
    the clinical tables refuse DELETE, so starting the demo afresh means a new file. Refuses
    any other database: a PostgreSQL demo is dropped and created with PostgreSQL's tools."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise InputError(
            "reset", f"only a SQLite demo file can be reset, not {parsed.render_as_string()}"
        )
    path = Path(parsed.database)
    existed = path.exists()
    get_engine(url).dispose()  # this process's pooled connections would keep the old file
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    return path if existed else None


def seed_demo_staff(unit: Unit) -> list[tuple[str, str]]:
    """One demo account per role (``demo-<role>``), unless it exists; returns (name, role) of
    every demo account."""
    names = [(f"demo-{role}", role) for role in ROLES]
    existing = set(
        unit.session.exec(
            select(StaffUser.name).where(col(StaffUser.name).in_([n for n, _ in names]))
        ).all()
    )
    for name, role in names:
        if name not in existing:
            create_staff(unit, name, role=role, password=DEMO_PASSWORD)
    return names
