"""Booking a visit at the clinic: inside its window, on an open day that is not a holiday and
not full, the free slots proposed nearest the target first; every refusal names its reason and
stores nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, time

import pytest
from appointment_kit import BEFORE_C2, a_subject_and_a_clinic
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from scheduler.appointments.booking import book, history, proposals
from scheduler.core.appointments import Slot
from scheduler.db import get_engine
from scheduler.errors import Conflict, InputError
from scheduler.kernel.subject_state import subject_state
from scheduler.models import Appointment, AuditEntry


def _slots(units, code: str = "S-014", visit: str = "C2D1") -> list[Slot]:
    with units(now=BEFORE_C2) as unit:
        state = subject_state(unit.session, code, unit.now)
        return proposals(unit.session, state, visit, unit.settings)


def test_the_form_proposes_the_free_days_of_the_window_nearest_the_target_first(units):
    a_subject_and_a_clinic(units)

    slots = _slots(units)

    # Target Monday 03-23; window Friday 03-20 .. Thursday 03-26; the weekend is closed. By
    # distance: 23 (0), 24 (1), 25 (2), then 20 and 26 (3 each, the earlier first).
    assert [s.on for s in slots] == [
        date(2026, 3, 23), date(2026, 3, 24), date(2026, 3, 25), date(2026, 3, 20),
        date(2026, 3, 26),
    ]  # fmt: skip
    assert {s.at for s in slots} == {time(8, 0)}
    assert {s.free for s in slots} == {2}


def test_a_booking_is_stored_audited_and_takes_a_place_of_the_day(units):
    a_subject_and_a_clinic(units, "S-014", "S-015")
    with units("nurse", now=BEFORE_C2) as unit:
        row = book(unit, "S-014", "C2D1", on="2026-03-23", at="09:00")
    assert (row.day, row.start, row.minutes, row.visit_type) == (
        date(2026, 3, 23), time(9, 0), 30, "C{cycle}D1",
    )  # fmt: skip

    slots = _slots(units, "S-015")
    assert (slots[0].on, slots[0].at, slots[0].free) == (date(2026, 3, 23), time(8, 0), 1)
    with units() as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "appointment.book")
        ).one()
    assert entry.actor == "nurse" and '"on": "2026-03-23"' in (entry.new_value or "")


def test_a_full_day_is_refused_naming_the_capacity_and_no_longer_proposed(units):
    a_subject_and_a_clinic(units, "S-014", "S-015", "S-016")
    with units("nurse", now=BEFORE_C2) as unit:
        book(unit, "S-014", "C2D1", on="2026-03-23", at="08:00")
        book(unit, "S-015", "C2D1", on="2026-03-23", at="08:30")

    with pytest.raises(Conflict) as refused, units("nurse", now=BEFORE_C2) as unit:
        book(unit, "S-016", "C2D1", on="2026-03-23", at="09:00")
    assert refused.value.field == "on"
    assert refused.value.reason == "2026-03-23 is full: 2 of 2 C{cycle}D1 visits are booked"
    assert date(2026, 3, 23) not in [s.on for s in _slots(units, "S-016")]


@pytest.mark.parametrize(
    ("on", "at", "field", "reason"),
    [
        ("2026-03-21", "09:00", "on", "the clinic is closed on Saturdays"),
        ("2026-03-27", "09:00", "on", "2026-03-27 is outside C2D1's window: book a day from "
         "2026-03-20 to 2026-03-26"),
        ("2026-03-23", "12:00", "at", "the clinic books from 08:00 to 12:00 (30-minute visits): "
         "got 12:00"),
        ("2026-03-23", "25:00", "at", None),
    ],
)  # fmt: skip
def test_a_closed_day_a_day_outside_the_window_or_a_time_outside_hours_is_refused(
    units, on, at, field, reason
):
    a_subject_and_a_clinic(units)
    with pytest.raises(InputError) as refused, units("nurse", now=BEFORE_C2) as unit:
        book(unit, "S-014", "C2D1", on=on, at=at)
    assert refused.value.field == field
    if reason is not None:
        assert refused.value.reason == reason
    with units() as unit:
        assert unit.session.exec(select(Appointment)).all() == []


def test_a_holiday_of_the_site_is_refused_and_not_proposed(units, settings):
    settings.site_holidays = {"ZJU1": [date(2026, 3, 23)]}
    a_subject_and_a_clinic(units)
    with pytest.raises(InputError) as refused, units("nurse", now=BEFORE_C2) as unit:
        unit.settings = settings
        book(unit, "S-014", "C2D1", on="2026-03-23", at="09:00")
    assert refused.value.reason == "2026-03-23 is a holiday at the clinic"
    with units(now=BEFORE_C2) as unit:
        state = subject_state(unit.session, "S-014", unit.now)
        slots = proposals(unit.session, state, "C2D1", settings)
    assert [s.on for s in slots][:2] == [date(2026, 3, 24), date(2026, 3, 25)]


def test_rebooking_needs_a_reason_and_keeps_the_first_appointment_superseded(units):
    a_subject_and_a_clinic(units)
    with units("nurse", now=BEFORE_C2) as unit:
        first = book(unit, "S-014", "C2D1", on="2026-03-23", at="09:00")
    with pytest.raises(Conflict) as refused, units("nurse", now=BEFORE_C2) as unit:
        book(unit, "S-014", "C2D1", on="2026-03-24", at="09:00")
    assert refused.value.field == "reason"

    with units("nurse", now=BEFORE_C2) as unit:
        second = book(
            unit, "S-014", "C2D1", on="2026-03-24", at="10:00", reason="patient works Monday"
        )
        rows = history(unit.session, second.subject_id)
    assert second.replaces_id == first.id
    assert [(r.day, superseded) for r, superseded in rows] == [
        (date(2026, 3, 23), True),
        (date(2026, 3, 24), False),
    ]
    assert rows[1][0].reason == "patient works Monday"


def test_without_a_clinic_the_site_books_nothing(units):
    with units("nurse", now=BEFORE_C2) as unit:
        from scheduler.subjects.enrolment import enroll

        enroll(unit, "S-014", c1d1="2026-03-02", surgery="2026-01-20", site_code="ZJU1",
               dose_time="07:00")  # fmt: skip
    with pytest.raises(Conflict) as refused, units("nurse", now=BEFORE_C2) as unit:
        book(unit, "S-014", "C2D1", on="2026-03-23", at="09:00")
    assert refused.value.field == "site" and "no clinic set up" in refused.value.reason


def test_an_appointment_is_never_changed_in_place(units, db_url):
    a_subject_and_a_clinic(units)
    with units("nurse", now=BEFORE_C2) as unit:
        book(unit, "S-014", "C2D1", on="2026-03-23", at="09:00")
    engine = get_engine(db_url)
    for statement in ("UPDATE appointment SET day = '2026-03-24'", "DELETE FROM appointment"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.exec_driver_sql(statement)
    with units() as unit:
        (row,) = unit.session.exec(select(Appointment)).all()
    assert row.day == date(2026, 3, 23)
