"""The preparation list read from the rows kept for the day is the list derived from every
plan: over random histories (doses, holds, resumptions at lower levels, day-1 checks,
preparations, dispensings, returns, "not needed", discontinuations) at two sites, with the rows
kept on some days and not others and changed after they were kept, so fresh and stale stamps
mix. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import delete
from sqlmodel import Session, select

from scheduler.clock import FixedClock, local_today
from scheduler.db import get_engine
from scheduler.errors import InputError
from scheduler.kernel.subject_state import all_subjects, states
from scheduler.models import KeptCapsuleTotal, KeptPreparationRow, PreparationStamp, Site
from scheduler.pharmacy.accountability import (
    confirm_day1,
    dispense,
    mark_not_needed,
    prepare,
    record_return,
)
from scheduler.pharmacy.kept_rows import default_range, expected, stale_subjects
from scheduler.pharmacy.preparation_list import PreparationList, preparation_list
from scheduler.reminders.jobs import keep_preparation_rows
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import discontinue, hold, resume

START = date(2026, 2, 2)
DAYS = 30
HOLIDAYS = {"ZJU2": [date(2026, 2, 16), date(2026, 2, 17), date(2026, 3, 9)]}


def _noon_in_shanghai(day: date) -> datetime:
    return datetime.combine(day, time(4, 0), tzinfo=UTC)


def _try(units, now: datetime, action) -> None:
    try:
        with units("sim-pharmacist", now=now) as unit:
            action(unit)
    except InputError:
        pass  # refused (a dose on a held day, nothing to prepare): nothing stored


def _enrol(units, rnd: random.Random) -> list[str]:
    codes = []
    with units("sim-nurse", now=_noon_in_shanghai(START)) as unit:
        unit.session.add(Site(code="ZJU2", name="Second site", time_zone="Asia/Shanghai"))
        unit.session.flush()
        for n in range(8):
            c1d1 = START + timedelta(days=rnd.randrange(-45, 15))
            code = f"K-{n:02d}"
            enroll(
                unit,
                code,
                c1d1=c1d1,
                surgery=c1d1 - timedelta(days=35),
                site_code="ZJU1" if n % 2 else "ZJU2",
            )
            codes.append(code)
    return codes


def _simulate_day(units, rnd: random.Random, day: date) -> None:
    now = _noon_in_shanghai(day)
    with units("sim-reader", now=now) as unit:
        plans = [s.plan() for s in states(unit.session, all_subjects(unit.session), now)]
    for plan in plans:
        code = plan.subject
        if plan.status == "discontinued":
            continue
        yesterday = day - timedelta(days=1)
        for slot in plan.doses():
            if slot.date == yesterday and not slot.tentative and rnd.random() < 0.7:
                taken = rnd.random() < 0.9
                _try(
                    units,
                    now,
                    lambda u, c=code, d=slot.date, t=taken: record_dose(u, c, on=d, taken=t),
                )
        current = plan.current_hold()
        if current is None and plan.status == "on_treatment" and rnd.random() < 0.05:
            _try(units, now, lambda u, c=code: hold(u, c, start=day, reason="grade 3 AE"))
        elif current is not None and current.end is None and rnd.random() < 0.2:
            dose = rnd.choice([None, *(lvl.dose_mg for lvl in plan.protocol.dose_levels)])
            if dose is not None and dose > plan.dose_mg:
                dose = None
            _try(units, now, lambda u, c=code, d=dose: resume(u, c, on=day, dose_mg=d, reason="ok"))
        for cycle in plan.cycles:
            if cycle.tentative:
                continue
            soon = day <= cycle.day1 <= day + timedelta(days=10)
            number = cycle.number
            if soon and rnd.random() < 0.15:
                met = rnd.random() < 0.8
                _try(
                    units,
                    now,
                    lambda u, c=code, n=number, m=met: confirm_day1(
                        u, c, cycle=n, met=m, reason="" if m else "ANC 1.2"
                    ),
                )
            if soon and rnd.random() < 0.25:
                _try(units, now, lambda u, c=code, n=number: prepare(u, c, cycle=n))
            past = cycle.day1 <= day + timedelta(days=3)  # dispensed at the day-1 visit
            strength = cycle.dose_mg
            if past and rnd.random() < 0.1:
                count = rnd.choice([14, 14, 14, 10])
                _try(
                    units,
                    now,
                    lambda u, c=code, n=number, k=count, s=strength: dispense(
                        u,
                        c,
                        cycle=n,
                        on=day,
                        strength=s,
                        count=k,
                        lot="L1",
                        expiry="2028-01-31",
                        reason="count corrected",
                    ),
                )
            if past and rnd.random() < 0.04:
                _try(
                    units,
                    now,
                    lambda u, c=code, n=number, s=strength: record_return(
                        u,
                        c,
                        cycle=n,
                        on=day,
                        strength=s,
                        count=rnd.randrange(0, 4),
                        reason="recount",
                    ),
                )
            if past and rnd.random() < 0.03:
                _try(
                    units,
                    now,
                    lambda u, c=code, n=number: mark_not_needed(
                        u, c, cycle=n, reason="patient has capsules"
                    ),
                )
        if plan.status == "on_treatment" and rnd.random() < 0.005:
            _try(units, now, lambda u, c=code: discontinue(u, c, on=day, reason="relapse"))


def _derived(db_url: str, now: datetime, holidays=HOLIDAYS, **filters) -> PreparationList:
    """The list with no row kept: every plan derived, as before the rows were kept."""
    with Session(get_engine(db_url)) as session, session.begin():
        for table in (KeptPreparationRow, KeptCapsuleTotal, PreparationStamp):
            session.execute(delete(table))
        listing = preparation_list(session, now, holidays=holidays, **filters)
        session.rollback()
    return listing


def _read(db_url: str, now: datetime, holidays=HOLIDAYS, **filters) -> PreparationList:
    with Session(get_engine(db_url)) as session:
        return preparation_list(session, now, holidays=holidays, **filters)


def _fresh_subjects(db_url: str, now: datetime) -> int:
    """Subjects whose kept rows the default list reads as they are."""
    with Session(get_engine(db_url)) as session:
        sites = session.exec(select(Site)).all()
        ranges = {s.id or 0: default_range(local_today(now, s.time_zone)) for s in sites}
        closed = {s.id or 0: HOLIDAYS.get(s.code, ()) for s in sites}
        stale = stale_subjects(session, expected(session, now, ranges, closed))
        return len(all_subjects(session)) - len(stale)


def _keep_every_site(db_url: str, settings, now: datetime) -> None:
    """What the nightly job does at each site."""
    engine = get_engine(db_url)
    with Session(engine) as session:
        sites = session.exec(select(Site.id)).all()
    for site_id in sites:
        keep_preparation_rows(engine, settings, FixedClock(now), site_id or 0)


@pytest.mark.parametrize("seed", [3, 11])
def test_random_histories_the_kept_list_is_the_list_derived_from_every_plan(
    units, db_url, settings, seed
):
    rnd = random.Random(seed)
    _enrol(units, rnd)
    kept_settings = settings.model_copy(update={"site_holidays": HOLIDAYS})
    compared = fresh = 0
    statuses: set[str] = set()
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        now = _noon_in_shanghai(day)
        if rnd.random() < 0.6:  # the nightly job ran (else every stamp is a day old)
            _keep_every_site(db_url, kept_settings, now)
        _simulate_day(units, rnd, day)
        fresh += _fresh_subjects(db_url, now)
        for filters in ({}, {"site_code": "ZJU1"}, {"site_code": "ZJU2"}):
            everything = _derived(db_url, now, **filters)
            assert _read(db_url, now, **filters) == everything, (day, filters)
            for limit in (1, 4):
                first = _read(db_url, now, limit=limit, **filters)
                assert first.rows == everything.rows[:limit]
                assert first.more == max(len(everything.rows) - limit, 0)
                assert (first.totals, first.discrepancies) == (
                    everything.totals,
                    everything.discrepancies,
                )
            compared += len(everything.rows)
            statuses |= {row.status for row in everything.rows}
            statuses |= {"overdue" for row in everything.rows if row.overdue}
    assert compared > 300
    assert fresh > 50, "the kept rows were hardly ever read"
    assert {"to prepare", "prepared", "prepared, plan changed", "overdue"} <= statuses


def test_a_custom_range_or_other_holidays_derive_every_plan_again(units, db_url, settings):
    """Rows kept for the default week and the site's holidays are not read for another range
    or other holidays: every subject is derived (and the answer is the same)."""
    _enrol(units, random.Random(1))
    now = _noon_in_shanghai(START)
    _keep_every_site(db_url, settings.model_copy(update={"site_holidays": HOLIDAYS}), now)
    assert _fresh_subjects(db_url, now) == 8
    assert _read(db_url, now) == _derived(db_url, now)
    weeks = {"start": START, "end": START + timedelta(days=20)}
    assert _read(db_url, now, **weeks) == _derived(db_url, now, **weeks)
    assert _read(db_url, now, holidays={}) == _derived(db_url, now, holidays={})
    tomorrow = now + timedelta(days=1)
    assert _fresh_subjects(db_url, tomorrow) == 0
    assert _read(db_url, tomorrow) == _derived(db_url, tomorrow)


def test_the_nightly_job_derives_only_the_subjects_whose_kept_rows_are_out_of_date(
    units, db_url, settings
):
    """A second process, or one restarted later the same day, finds nothing left to do; a
    subject changed since is derived again, and so is everyone on the next day."""
    _enrol(units, random.Random(2))
    now = _noon_in_shanghai(START)
    kept = settings.model_copy(update={"site_holidays": HOLIDAYS})
    engine = get_engine(db_url)
    with Session(engine) as session:
        sites = {s.code: s.id or 0 for s in session.exec(select(Site))}

    def keep(at: datetime) -> dict[str, int]:
        return {
            code: keep_preparation_rows(engine, kept, FixedClock(at), site_id)
            for code, site_id in sites.items()
        }

    assert keep(now) == {"ZJU1": 4, "ZJU2": 4}
    assert keep(now) == {"ZJU1": 0, "ZJU2": 0}
    with units("sim-nurse", now=now) as unit:
        begun = [s for s in all_subjects(unit.session, "ZJU1") if s.c1d1 < START]
        record_dose(unit, begun[0].code, on=begun[0].c1d1, taken=True)
    assert keep(now) == {"ZJU1": 1, "ZJU2": 0}
    assert keep(now + timedelta(days=1)) == {"ZJU1": 4, "ZJU2": 4}
    assert _read(db_url, now + timedelta(days=1)) == _derived(db_url, now + timedelta(days=1))
