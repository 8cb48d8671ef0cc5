"""The derived rows stay in step with the records, and the indexed worklist lists exactly what
the plans say (checked against the plans themselves on the demo trial, over three weeks)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import Session, col, select

from scheduler.app.demo import seed_demo
from scheduler.core.dose_changes import mid_cycle_changes
from scheduler.db import get_engine
from scheduler.errors import InputError
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.subject_state import SubjectState, all_subjects, states
from scheduler.models import (
    Day1Check,
    DoseRecord,
    MissedDose,
    ScheduledVisit,
    Subject,
    SubjectStatus,
)
from scheduler.pharmacy.accountability import confirm_day1, load_records
from scheduler.subjects.corrections import void_record
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import discontinue, resume
from scheduler.subjects.treatment import hold as hold_dosing
from scheduler.subjects.visits import record_visit
from scheduler.worklist.items import worklist
from scheduler.worklist.rows import rows_for


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


# Random histories, recorded day by day through the services, checked against the plans.

SIM_START = date(2026, 2, 2)
SIM_DAYS = 60
SIM_SUBJECTS = 7
LOOK_AHEAD = (0, 2, 5)
"""Days after the simulated today that each check also draws the list for."""


def _noon_in_shanghai(day: date) -> datetime:
    return datetime.combine(day, time(4, 0), tzinfo=UTC)


def _try(units, now: datetime, action) -> None:
    """One change in its own unit of work; a change the services refuse (a dose on a held day,
    a resumption before the hold) leaves nothing behind, which is all the simulation needs."""
    try:
        with units("sim-nurse", now=now) as unit:
            action(unit)
    except InputError:
        pass


def _resumes(rnd: random.Random, code: str, held_days: int) -> bool:
    """Odd-numbered subjects recover slowly (four weeks at least): their cycles are delayed
    beyond the limit and their holds outlast it."""
    if int(code[-1]) % 2:
        return held_days >= 28 and rnd.random() < 0.3
    return rnd.random() < 0.15


def _simulate_day(units, rnd: random.Random, day: date) -> None:
    now = _noon_in_shanghai(day)
    with units("sim-reader", now=now) as unit:
        plans = [s.plan() for s in _states(unit)]
    for plan in plans:
        code = plan.subject
        if plan.status == "discontinued":
            continue
        yesterday = day - timedelta(days=1)
        weekly = code.endswith("0")  # enters the diary on Mondays only: rows go unrefreshed
        for slot in plan.doses():
            if slot.tentative or slot.date > yesterday:
                continue
            due = (day.weekday() == 0) if weekly else slot.date == yesterday
            if slot.status == "planned" and due and rnd.random() < 0.8:
                taken = rnd.random() < 0.88
                _try(
                    units,
                    now,
                    lambda u, c=code, d=slot.date, t=taken: record_dose(u, c, on=d, taken=t),
                )
            elif slot.status == "missed" and rnd.random() < 0.03:
                _try(  # a diary found later: the missed dose was taken after all
                    units,
                    now,
                    lambda u, c=code, d=slot.date: record_dose(
                        u, c, on=d, taken=True, reason="diary found"
                    ),
                )
        for visit in plan.visits:
            if visit.status in ("done", "cancelled") or visit.tentative:
                continue
            if visit.window_start <= day and rnd.random() < (0.1 if weekly else 0.3):
                on = max(visit.window_start, day - timedelta(days=rnd.randrange(0, 3)))
                _try(units, now, lambda u, c=code, v=visit.code, o=on: record_visit(u, c, v, on=o))
        hold = plan.current_hold()
        if hold is None and plan.status == "on_treatment" and rnd.random() < 0.06:
            _try(units, now, lambda u, c=code: hold_dosing(u, c, start=day, reason="grade 3 AE"))
        elif hold is not None and hold.end is None and _resumes(rnd, code, (day - hold.start).days):
            dose = rnd.choice([None, *(lvl.dose_mg for lvl in plan.protocol.dose_levels)])
            if dose is not None and dose > plan.dose_mg:
                dose = None
            _try(  # the investigator's reason: needed beyond the hold or delay limit
                units,
                now,
                lambda u, c=code, d=dose: resume(u, c, on=day, dose_mg=d, reason="recovered"),
            )
        waiting = plan.waiting_for_criteria()
        if waiting is not None and rnd.random() < 0.2:
            _try(  # labs repeated: met at last (the reason covers a delay beyond the limit)
                units,
                now,
                lambda u, c=code, n=waiting.cycle: confirm_day1(
                    u, c, cycle=n, met=True, reason="repeat ANC 1.8"
                ),
            )
        for cycle in plan.cycles:
            upcoming = not cycle.tentative and day <= cycle.day1 <= day + timedelta(days=3)
            if upcoming and rnd.random() < 0.3:
                met = rnd.random() < 0.7
                reason = "" if met else "ANC 1.2"
                _try(
                    units,
                    now,
                    lambda u, c=code, n=cycle.number, m=met, r=reason: confirm_day1(
                        u, c, cycle=n, met=m, reason=r
                    ),
                )
        if rnd.random() < 0.02:
            with units("sim-reader", now=now) as unit:
                doses = unit.session.exec(
                    select(DoseRecord.id).join(Subject).where(Subject.code == code)
                ).all()
            if doses:
                record_id = rnd.choice(doses) or 0
                _try(
                    units,
                    now,
                    lambda u, c=code, r=record_id: void_record(u, c, "dose", r, "wrong subject"),
                )
        if plan.status == "on_treatment" and rnd.random() < 0.004:
            _try(units, now, lambda u, c=code: discontinue(u, c, on=day, reason="relapse"))


Listed = tuple[str, str, str | None, date | None, date | None, date | None, str, str]
"""subject, kind, visit code, target, window start, window end, what, urgency."""


def _listed(item) -> Listed:
    return (
        item.subject,
        item.kind,
        item.visit_code,
        item.target,
        item.window_start,
        item.window_end,
        item.what,
        item.urgency,
    )


def _expected_from_the_plan(plan, checks: dict[int, bool], day: date) -> set[Listed]:
    """Every item the worklist must give for ``day``, computed the slow way: from the whole
    plan, each kind by its definition (see docs/worklist.md)."""
    code = plan.subject
    found: set[Listed] = set()
    for v in plan.visits:
        if v.status in ("done", "cancelled") or v.tentative or v.window_start > day:
            continue
        if v.target == day:
            kind, urgency = "visit_due", "today"
        elif v.window_end < day:
            kind, urgency = "visit_overdue", "overdue"
        else:
            kind, urgency = "visit_in_window", "window"
        found.add((code, kind, v.code, v.target, v.window_start, v.window_end, v.code, urgency))
    for cycle in plan.cycles:
        if cycle.tentative or not day <= cycle.day1 <= day + timedelta(days=3):
            continue
        visit = next(
            (v for v in plan.visits if v.anchor == "cycle" and v.cycle == cycle.number
             and v.target == cycle.day1),
            None,
        )  # fmt: skip
        if visit is None or visit.status in ("done", "cancelled") or checks.get(cycle.number):
            continue
        found.add(
            (code, "day1_check", visit.code, visit.target, visit.window_start,
             visit.window_end, f"cycle {cycle.number}", "today")
        )  # fmt: skip
    waiting = plan.waiting_for_criteria()
    if waiting is not None and day >= plan.cycles[waiting.cycle - 1].day1 - timedelta(days=3):
        # Its visits are tentative: the check is listed without them, until met.
        found.add((code, "day1_check", None, None, None, None, f"cycle {waiting.cycle}", "today"))
    missed = [s.date for s in plan.doses() if s.status == "missed"]
    recent = [d for d in missed if day - timedelta(days=2) <= d <= day]
    if recent:
        found.add(
            (code, "missed_doses", None, max(recent), None, None, f"{len(recent)} missed", "today")
        )
    limit = plan.protocol.limits.max_hold_days
    for hold in plan.holds:
        if hold.start <= day and (hold.end is None or hold.end > day):
            days = (day - hold.start).days + 1
            urgency = "overdue" if days > limit else "watch"
            found.add(
                (code, "on_hold", None, hold.start, None, None, f"{days} of {limit} days", urgency)
            )
    unrecorded = [s.date for s in plan.doses() if s.status == "planned" and not s.tentative]
    if unrecorded and unrecorded[0] < day - timedelta(days=7):
        found.add((code, "unrecorded_doses", None, unrecorded[0], None, None, "diary", "watch"))
    # Nothing is dispensed in this simulation: every dose changed mid-cycle waits for its
    # capsules, until its last dose.
    for change in mid_cycle_changes(plan):
        if day <= change.dose_dates[-1]:
            what = f"cycle {change.cycle}"
            found.add((code, "new_strength", None, None, None, None, what, "today"))
    return found


def _expected_proposals(plan) -> set[Listed]:
    """The core's own proposals as of the plan's day, less those the on-hold row stands for:
    the hold limit, and a delay that still grows behind an open hold (but not one that grows
    while the cycle waits for its day-1 criteria)."""
    found: set[Listed] = set()
    waiting = plan.waiting_for_criteria()
    for p in plan.proposals:
        if p.rule_id == "hold-limit":
            continue
        assert p.rule_id == "delay-limit", p
        number = int(p.reason.split()[1])
        if not plan.cycles[number - 1].tentative or (waiting and waiting.cycle == number):
            found.add((plan.subject, "proposal", None, None, None, None, p.action, "overdue"))
    return found


def _check_lists(units, day: date) -> int:
    """Compares the indexed list of ``day`` and of a few days on (drawn on ``day``, from rows
    derived whenever the records last changed) with the lists computed from the plans as of
    each of those days; returns how many items were compared."""
    compared = 0
    with units("sim-reader", now=_noon_in_shanghai(day)) as unit:
        subjects = all_subjects(unit.session)
        code_of = {s.id: s.code for s in subjects}
        checks: dict[str, dict[int, bool]] = {s.code: {} for s in subjects}
        for check in unit.session.exec(select(Day1Check).order_by(col(Day1Check.id))):
            checks[code_of[check.subject_id]][check.cycle] = check.met  # the latest counts
        for ahead in LOOK_AHEAD:
            on = day + timedelta(days=ahead)
            listed = {
                _listed(i)
                for i in worklist(unit.session, unit.now, site_code="ZJU1", on=on)
                if i.kind != "awaiting_signature"  # from the records, not the plan: see signatures
            }
            expected: set[Listed] = set()
            for state in states(unit.session, subjects, _noon_in_shanghai(on)):
                plan = state.plan()
                expected |= _expected_from_the_plan(plan, checks[plan.subject], on)
                expected |= _expected_proposals(plan)
            assert sorted(listed, key=repr) == sorted(expected, key=repr), (
                day,
                on,
                sorted(listed - expected, key=repr),
                sorted(expected - listed, key=repr),
            )
            compared += len(listed)
    return compared


@pytest.mark.parametrize("seed", [7, 5])  # seeds whose histories reach every kind of item
def test_random_histories_the_indexed_worklist_is_the_one_computed_from_every_plan(units, seed):
    """Subjects get doses taken, missed and corrected, visits done, holds, resumptions at lower
    levels, day-1 checks, voids and discontinuations at random, one simulated day at a time,
    with nothing refreshing the rows but the changes themselves. Every few days the worklist
    (from the indexed rows) must equal the one computed from each subject's fresh plan."""
    rnd = random.Random(seed)
    with units("sim-nurse", now=_noon_in_shanghai(SIM_START)) as unit:
        for n in range(SIM_SUBJECTS):
            c1d1 = SIM_START + timedelta(days=rnd.randrange(-30, 12))
            enroll(
                unit,
                f"R-{n:02d}",
                c1d1=c1d1,
                surgery=c1d1 - timedelta(days=35),
                site_code="ZJU1",
            )
    compared = 0
    kinds: set[str] = set()
    waits: set[tuple[str, int]] = set()
    for offset in range(SIM_DAYS):
        day = SIM_START + timedelta(days=offset)
        _simulate_day(units, rnd, day)
        if offset % 3 == 2:
            compared += _check_lists(units, day)
            with units("sim-reader", now=_noon_in_shanghai(day)) as unit:
                kinds |= {i.kind for i in worklist(unit.session, unit.now, site_code="ZJU1")}
                for state in _states(unit):
                    wait = state.plan().waiting_for_criteria()
                    waits |= {(state.subject.code, wait.cycle)} if wait else set()
    assert compared > 200
    assert {"visit_due", "visit_in_window", "visit_overdue", "missed_doses", "on_hold"} <= kinds
    assert {"day1_check", "proposal", "unrecorded_doses"} <= kinds
    assert len(waits) >= 2, "too few cycles waited for their day-1 criteria"
