"""The patient page's next appointment follows the bookings where the site books them: the
booked day and time, and, once a hold has moved the visit away from its booked day, the plan's
date for the team to confirm, never the stale booking. On SQLite and PostgreSQL; S-1 starts
cycle 1 on Monday 2026-03-02 in Shanghai, C1D15 (2026-03-16, +/- 2 days) is the next visit on
day 3, C2D1 (2026-03-23, +/- 3 days) on day 18."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from scheduler.appointments.booking import book
from scheduler.appointments.clinics import set_up_clinic
from scheduler.kernel.subject_state import subject_state
from scheduler.patients.view import patient_page
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold

DAY_3_NOON = datetime(2026, 3, 4, 4, 0, tzinfo=UTC)
DAY_18_NOON = datetime(2026, 3, 19, 4, 0, tzinfo=UTC)
SETTINGS = Settings(database_url="sqlite://")


@pytest.fixture
def subject(units):
    with units(now=DAY_3_NOON) as unit:
        enroll(unit, "S-1", c1d1="2026-03-02", surgery="2026-01-20", site_code="ZJU1")
    return "S-1"


def _appointment(units, now=DAY_3_NOON):
    with units(now=now) as unit:
        state = subject_state(unit.session, "S-1", unit.now)
        return patient_page(unit.session, state, SETTINGS).appointment


def test_without_a_clinic_the_page_shows_the_plan_s_date_without_a_time(units, subject):
    appointment = _appointment(units)
    assert (appointment.on, appointment.at) == (date(2026, 3, 16), None)


def test_a_booked_c1d15_shows_its_day_time_and_place(units, subject):
    with units("admin", now=DAY_3_NOON) as unit:
        set_up_clinic(unit, "ZJU1", open_days="mon,tue,wed,thu,fri")
    with units("nurse", now=DAY_3_NOON) as unit:
        book(unit, "S-1", "C1D15", on="2026-03-17", at="09:30")
    appointment = _appointment(units)
    assert (appointment.on, appointment.at) == (date(2026, 3, 17), time(9, 30))
    assert appointment.place


def test_a_hold_that_moves_c2d1_hides_its_stale_booking(units, subject):
    with units("admin", now=DAY_18_NOON) as unit:
        set_up_clinic(unit, "ZJU1", open_days="mon,tue,wed,thu,fri")
    with units("nurse", now=DAY_18_NOON) as unit:
        book(unit, "S-1", "C2D1", on="2026-03-23", at="09:30")
    assert _appointment(units, DAY_18_NOON).at == time(9, 30)
    with units("investigator", now=DAY_18_NOON) as unit:
        hold(unit, "S-1", start="2026-03-19", reason="grade 3 hypertension")
    appointment = _appointment(units, DAY_18_NOON)
    assert appointment is None or appointment.at is None
