"""What the patient sees of appointments: a booked visit is a timed event in the subject's zone
at the site (name and address), with what to bring; a visit not booked yet stays an all-day
event "appointment to be booked" with no alarm; the visit reminder goes the evening before the
booked day, says the booked time, and lapses when the appointment begins, across a change of
daylight saving time. Chinese patients read it all in Chinese. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appointment_kit import BEFORE_C2, a_subject_and_a_clinic, event_of, feed_events
from sqlmodel import select

from scheduler.appointments.booking import book
from scheduler.appointments.clinics import set_up_clinic
from scheduler.core import Anchors, History, build_plan
from scheduler.core.appointments import Booking
from scheduler.core.reminders import wanted_reminders
from scheduler.models import Reminder, Site
from scheduler.reminders.outbox import set_preference
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.languages import change_language

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_booked_visit_is_a_timed_event_at_the_site_and_an_unbooked_one_is_to_be_booked(
    units, db_url, settings
):
    a_subject_and_a_clinic(units)
    with units("nurse", now=BEFORE_C2) as unit:
        book(unit, "S-014", "C2D1", on="2026-03-24", at="09:30")
    events = feed_events(db_url, "S-014", BEFORE_C2, settings)

    booked = event_of(events, "cycle 2:")
    assert str(booked["SUMMARY"]) == "Study visit: first day of cycle 2: collect your capsules"
    start = booked.decoded("DTSTART")
    assert start == datetime(2026, 3, 24, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert str(start.tzinfo) == "Asia/Shanghai"
    assert booked.decoded("DURATION") == timedelta(minutes=30)
    assert str(booked["LOCATION"]).startswith("The First Affiliated Hospital")
    assert "79 Qingchun Road" in str(booked["LOCATION"])
    description = str(booked["DESCRIPTION"])
    assert "Appointment: 2026-03-24 at 09:30." in description
    assert "Please bring: dosing diary, blood pressure log" in description
    (alarm,) = booked.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(hours=15, minutes=30)  # 18:00 the day before

    unbooked = event_of(events, "cycle 3:")
    assert str(unbooked["SUMMARY"]) == (
        "Appointment to be booked: first day of cycle 3: collect your capsules"
    )
    assert unbooked.decoded("DTSTART") == date(2026, 4, 13)
    assert "The study team will book a date and time" in str(unbooked["DESCRIPTION"])
    assert unbooked.walk("VALARM") == []


def test_a_chinese_patient_reads_the_appointment_in_chinese(units, db_url, settings):
    a_subject_and_a_clinic(units)
    with units("nurse", now=BEFORE_C2) as unit:
        change_language(unit, "S-014", "zh_CN", reason="patient reads Chinese")
        book(unit, "S-014", "C2D1", on="2026-03-24", at="09:30")
    events = feed_events(db_url, "S-014", BEFORE_C2, settings)
    booked = event_of(events, "第 2 周期第一天")
    assert "预约" in str(booked["DESCRIPTION"]) and "09:30" in str(booked["DESCRIPTION"])
    unbooked = event_of(events, "第 3 周期第一天")
    assert "待预约" in str(unbooked["SUMMARY"])


def _berlin_subject(units) -> None:
    with units("admin", now=BEFORE_C2) as unit:
        unit.session.add(
            Site(code="BER1", name="Berlin study clinic", time_zone="Europe/Berlin",
                 address="Chariteplatz 1, Berlin")
        )  # fmt: skip
        unit.session.flush()
        set_up_clinic(unit, "BER1", open_days="mon,tue,wed,thu,fri", opens_at="08:00")
    with units("nurse", now=BEFORE_C2) as unit:
        enroll(unit, "B-001", c1d1="2026-03-09", surgery="2026-02-02", site_code="BER1",
               time_zone="Europe/Berlin", dose_time="07:00")  # fmt: skip


def test_the_visit_reminder_uses_the_booked_day_and_time_across_the_change_to_summer_time(
    units, db_url, settings
):
    # C2D1 of a subject starting Monday 2026-03-09 is Monday 03-30, the day after Berlin
    # moves to summer time (03-29): 09:00 that day is 07:00 UTC, 18:00 the evening before
    # (already summer time) 16:00 UTC.
    _berlin_subject(units)
    with units("nurse", now=BEFORE_C2) as unit:
        set_preference(unit, "B-001", opted_in=True, channel="console", address="b-001")
    with units() as unit:
        assert unit.session.exec(select(Reminder).where(Reminder.kind == "visit")).all() == []
    with units("nurse", now=BEFORE_C2) as unit:
        book(unit, "B-001", "C2D1", on="2026-03-30", at="09:00")
    with units() as unit:
        (reminder,) = unit.session.exec(
            select(Reminder).where(Reminder.kind == "visit", Reminder.status == "pending")
        ).all()
    assert reminder.due_at == datetime(2026, 3, 29, 16, 0, tzinfo=UTC)
    assert reminder.body == "B-001, 2026-03-30: clinic appointment tomorrow at 09:00. " + (
        "Please bring: dosing diary, blood pressure log, all capsules and empty bottles."
    )
    event = event_of(feed_events(db_url, "B-001", BEFORE_C2, settings), "cycle 2:")
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_a_reminder_lapses_when_the_appointment_begins(anlotinib):
    anchors = Anchors(subject="B-001", c1d1=date(2026, 3, 9), surgery=date(2026, 2, 2),
                      time_zone=BERLIN, dose_time=time(7, 0))  # fmt: skip
    plan = build_plan(anlotinib, anchors, History(), date(2026, 3, 20))
    booking = Booking(visit_code="C2D1", on=date(2026, 3, 30), at=time(9, 0), minutes=30,
                      place="Berlin")  # fmt: skip
    wanted = {
        w.item_key: w
        for w in wanted_reminders(
            plan,
            datetime(2026, 3, 20, tzinfo=UTC),
            horizon_days=28,
            dose_grace_hours=None,
            visit_time=time(18, 0),
            visit_grace_hours=48,
            bookings={"C2D1": booking},
        )
        if w.kind == "visit"
    }
    assert list(wanted) == ["C2D1"]  # C1D15 is not booked: no date to remind of
    assert wanted["C2D1"].due_at == datetime(2026, 3, 29, 16, 0, tzinfo=UTC)
    assert wanted["C2D1"].expires_at == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
