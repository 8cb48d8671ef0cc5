"""Reminders derived from the plan, in the same transaction as the change, on SQLite and
PostgreSQL. The fixed clock reads 2026-03-02 12:00 in Shanghai; S-001 starts cycle 1 that day
and takes anlotinib at 08:00 local (00:00 UTC)."""

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlmodel import select

from scheduler.db import get_engine
from scheduler.errors import InputError
from scheduler.kernel.protocol_versions import load_shipped_protocols
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.unit import unit_of_work
from scheduler.models import AuditEntry, Reminder
from scheduler.reminders.outbox import set_preference
from scheduler.settings import Settings
from scheduler.subjects.corrections import void_record
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import change_anchor, enroll
from scheduler.subjects.treatment import discontinue, hold


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(
            unit, "S-001", c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1",
            dose_time="08:00",
        )  # fmt: skip
        set_preference(unit, "S-001", opted_in=True, channel="email", address="p1@example.org")
    return "S-001"


def _rows(units, status="pending", kind=None):
    with units() as unit:
        query = select(Reminder).where(Reminder.status == status).order_by(Reminder.due_at)
        rows = unit.session.exec(query).all()
    return {r.item_key: r for r in rows if kind is None or r.kind == kind}


def test_opting_in_queues_a_reminder_at_the_dose_time_of_each_dosing_day(units, subject):
    doses = _rows(units, kind="dose")
    assert doses["C1D1"].due_at == _utc(2026, 3, 2, 0, 0)  # 08:00 in Shanghai
    assert doses["C1D14"].due_at == _utc(2026, 3, 15, 0, 0)
    assert "C1D15" not in doses  # rest days have no reminder
    assert doses["C2D1"].due_at == _utc(2026, 3, 23, 0, 0)
    assert doses["C1D1"].expires_at == _utc(2026, 3, 2, 12, 0)  # late_dose_hours = 12
    assert doses["C1D2"].body == "S-001, 2026-03-03: take your 12 mg dose due at 08:00."
    assert max(doses.values(), key=lambda r: r.due_at).due_at <= _utc(2026, 3, 30, 4, 0)


def test_a_visit_reminder_comes_the_evening_before_the_visit(units, subject):
    visits = _rows(units, kind="visit")
    assert visits["C1D15"].due_at == _utc(2026, 3, 15, 10, 0)  # 18:00 in Shanghai
    assert visits["C1D15"].body == (
        "S-001, 2026-03-16: clinic visit tomorrow. Please bring: dosing diary, blood pressure log."
    )
    assert visits["C2D1"].due_at == _utc(2026, 3, 22, 10, 0)


def test_a_hold_cancels_the_reminders_of_held_doses_in_the_same_transaction(units, subject):
    with units(now=_utc(2026, 3, 3, 4, 0)) as unit:
        hold(unit, subject, start="2026-03-04", reason="grade 3 hypertension")
    pending = _rows(units, kind="dose")
    cancelled = _rows(units, status="cancelled")
    assert sorted(pending) == ["C1D2"]  # C1D1's grace is over; from C1D3 on all held
    assert {"C1D3", "C1D14", "C2D1"} <= set(cancelled)
    assert "C2D1" not in _rows(units, kind="visit")  # cycle 2 is tentative under an open hold


def test_striking_out_the_hold_brings_the_cancelled_reminders_back(units, subject):
    with units(now=_utc(2026, 3, 3, 4, 0)) as unit:
        hold(unit, subject, start="2026-03-04", reason="entered for the wrong subject")
    with units(now=_utc(2026, 3, 3, 5, 0)) as unit:
        hold_id = unit.session.exec(
            select(AuditEntry.entity_id).where(AuditEntry.entity == "hold")
        ).first()
        void_record(unit, subject, "hold", hold_id, reason="wrong subject")
    doses = _rows(units, kind="dose")
    assert {"C1D3", "C1D14", "C2D1"} <= set(doses)
    assert doses["C1D3"].attempts == 0


def test_a_dose_recorded_as_taken_before_its_reminder_cancels_it(units, subject):
    with units(now=_utc(2026, 3, 2, 23, 30)) as unit:  # 07:30 on 3 March in Shanghai
        record_dose(unit, subject, on="2026-03-03", taken=True, at="07:30")
    assert "C1D2" in _rows(units, status="cancelled")
    assert "C1D2" not in _rows(units, kind="dose")


def test_opting_out_cancels_every_pending_reminder_and_is_audited(units, subject):
    with units() as unit:
        set_preference(unit, subject, opted_in=False)
    assert _rows(units) == {}
    with units() as unit:
        actions = unit.session.exec(
            select(AuditEntry.action).where(AuditEntry.entity == "reminderpreference")
        ).all()
    assert actions == ["reminders.opt_in", "reminders.opt_out"]


def test_a_new_dose_time_moves_every_pending_reminder(units, subject):
    with units() as unit:
        change_anchor(unit, subject, "dose_time", "21:00", reason="works nights")
    doses = _rows(units, kind="dose")
    assert doses["C1D2"].due_at == _utc(2026, 3, 3, 13, 0)
    assert all(r.due_at.hour == 13 for r in doses.values())


def test_reminder_times_follow_new_york_across_the_spring_forward_gap(units):
    with units() as unit:
        enroll(
            unit,
            "NY-01",
            c1d1="2026-03-02",
            surgery="2026-02-01",
            site_code="ZJU1",
            time_zone="America/New_York",
            dose_time="02:30",
        )
        set_preference(unit, "NY-01", opted_in=True, channel="webhook", address="+12125550100")
    doses = _rows(units, kind="dose")
    assert doses["C1D6"].due_at == _utc(2026, 3, 7, 7, 30)  # 02:30 EST
    assert doses["C1D7"].due_at == _utc(2026, 3, 8, 7, 30)  # 02:30 does not exist: 03:30 EDT
    assert doses["C1D8"].due_at == _utc(2026, 3, 9, 6, 30)  # 02:30 EDT


def test_opting_in_refuses_an_address_that_does_not_fit_the_channel(units, subject):
    with pytest.raises(InputError) as error, units() as unit:
        set_preference(unit, subject, opted_in=True, channel="webhook", address="p1@example.org")
    assert error.value.field == "address"
    with pytest.raises(InputError) as error, units() as unit:
        set_preference(unit, subject, opted_in=True, channel="pager", address="+12125550100")
    assert error.value.field == "channel"


def test_a_discontinuation_cancels_the_dose_and_cycle_visit_reminders(units, subject):
    with units(now=_utc(2026, 3, 3, 4, 0)) as unit:
        discontinue(unit, subject, on="2026-03-03", reason="toxicity", note="grade 4 neutropenia")
    assert _rows(units, kind="dose") == {}
    assert sorted(_rows(units, kind="visit")) == ["EOT"]  # the end-of-treatment visit only
    assert "grade" not in _rows(units)["EOT"].body
    assert {"C1D3", "C1D14", "C1D15", "C2D1"} <= set(_rows(units, status="cancelled"))


def test_a_new_time_zone_moves_every_pending_reminder(units, subject):
    with units() as unit:
        change_anchor(unit, subject, "tz", "Europe/London", reason="moved to London")
    doses = _rows(units, kind="dose")
    assert doses["C1D3"].due_at == _utc(2026, 3, 4, 8, 0)  # 08:00 GMT
    visits = _rows(units, kind="visit")
    assert visits["C1D15"].due_at == _utc(2026, 3, 15, 18, 0)  # 18:00 GMT the day before
    assert _rows(units, status="cancelled")["C1D3"].due_at == _utc(2026, 3, 4, 0, 0)


def test_reminder_times_follow_new_york_when_the_clocks_fall_back(units):
    with units(now=_utc(2026, 10, 26, 12, 0)) as unit:
        enroll(
            unit,
            "NY-02",
            c1d1="2026-10-26",
            surgery="2026-09-01",
            site_code="ZJU1",
            time_zone="America/New_York",
            dose_time="01:30",
        )
        set_preference(unit, "NY-02", opted_in=True, channel="console", address="ny02")
    doses = _rows(units, kind="dose")
    assert doses["C1D6"].due_at == _utc(2026, 10, 31, 5, 30)  # 01:30 EDT
    assert doses["C1D7"].due_at == _utc(2026, 11, 1, 5, 30)  # 01:30 happens twice: the first
    assert doses["C1D8"].due_at == _utc(2026, 11, 2, 6, 30)  # 01:30 EST
    visits = _rows(units, kind="visit")
    assert visits["C1D15"].due_at == _utc(2026, 11, 8, 23, 0)  # 18:00 EST on 8 November


def test_a_twice_daily_regimen_gets_a_reminder_at_each_dose_time(units):
    with units() as unit:
        enroll(
            unit,
            "BID-01",
            c1d1="2026-03-03",
            surgery="2026-02-01",
            site_code="ZJU1",
            protocol_id="EXAMPLE-CAPE-BID",
        )
        set_preference(unit, "BID-01", opted_in=True, channel="console", address="bid01")
    with units() as unit:
        doses = unit.session.exec(
            select(Reminder).where(Reminder.kind == "dose").order_by(Reminder.due_at)
        ).all()
    first_day = [r for r in doses if r.due_at.date() == _utc(2026, 3, 3).date()]
    assert len(first_day) == 2
    assert first_day[1].due_at - first_day[0].due_at == timedelta(hours=12)
    assert first_day[0].expires_at - first_day[0].due_at == timedelta(hours=6)  # its protocol
    assert len({r.idempotency_key for r in doses}) == len(doses)


def test_the_settings_of_the_unit_decide_horizon_visit_time_and_grace(db_url, clock, monkeypatch):
    """The derived rows follow the settings the application or worker runs with, passed to the
    unit of work, not the environment's: here the environment says otherwise on every count."""
    from scheduler.settings import get_settings

    for name, value in {
        "HORIZON_DAYS": "2",
        "VISIT_TIME": "07:00",
        "VISIT_GRACE_HOURS": "1",
        "DOSE_GRACE_HOURS": "1",
    }.items():
        monkeypatch.setenv(f"DOSING_REMINDER_{name}", value)
    get_settings.cache_clear()
    monkeypatch.setattr("scheduler.settings.get_settings", get_settings)
    passed = Settings(
        database_url=db_url,
        reminder_horizon_days=15,
        reminder_visit_time=time(19, 30),
        reminder_visit_grace_hours=3,
        reminder_dose_grace_hours=5,
    )
    engine = get_engine(db_url)
    try:
        with unit_of_work(engine, "setup", clock, passed) as unit:
            load_shipped_protocols(unit)
            ensure_default_site(unit, passed)
        with unit_of_work(engine, "nurse", clock, passed) as unit:
            enroll(
            unit, "S-001", c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1",
            dose_time="08:00",
        )  # fmt: skip
            set_preference(unit, "S-001", opted_in=True, channel="email", address="p@example.org")
        with unit_of_work(engine, "reader", clock, passed) as unit:
            rows = unit.session.exec(select(Reminder).order_by(Reminder.due_at)).all()
    finally:
        get_settings.cache_clear()
    doses = {r.item_key: r for r in rows if r.kind == "dose"}
    visits = {r.item_key: r for r in rows if r.kind == "visit"}
    assert max(r.due_at for r in rows) <= _utc(2026, 3, 17, 4, 0)  # 15 days ahead
    assert "C1D14" in doses  # 2026-03-15, beyond the environment's 2 days
    assert doses["C1D2"].expires_at == _utc(2026, 3, 3, 5, 0)  # 5 h, not 12 h or 1 h
    assert visits["C1D15"].due_at == _utc(2026, 3, 15, 11, 30)  # 19:30 in Shanghai
    assert visits["C1D15"].expires_at == _utc(2026, 3, 15, 14, 30)
