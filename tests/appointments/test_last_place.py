"""Two nurses book the day's last place at the same moment: the clinic's row queues them
(PostgreSQL's row lock; SQLite's write lock), so the second sees the first booking and is
refused "full"; never two bookings over the capacity. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

from appointment_kit import BEFORE_C2, a_subject_and_a_clinic
from sqlmodel import select

from scheduler.appointments.booking import book
from scheduler.errors import Conflict
from scheduler.models import Appointment


def test_the_second_booking_of_the_last_place_waits_and_is_refused(units):
    a_subject_and_a_clinic(units, "S-014", "S-015", per_day=1)
    outcome: list[BaseException | None] = []

    def second() -> None:
        try:
            with units("nurse", now=BEFORE_C2) as unit:
                book(unit, "S-015", "C2D1", on="2026-03-23", at="10:00")
            outcome.append(None)
        except BaseException as exc:  # the thread reports what it met
            outcome.append(exc)

    other = threading.Thread(target=second)
    with units("nurse", now=BEFORE_C2) as unit:
        book(unit, "S-014", "C2D1", on="2026-03-23", at="09:00")
        other.start()
        time.sleep(0.5)
        assert other.is_alive()  # queued behind this unit, which has not committed yet
    other.join(timeout=30)

    (refused,) = outcome
    assert isinstance(refused, Conflict)
    assert refused.reason == "2026-03-23 is full: 1 of 1 C{cycle}D1 visits are booked"
    with units() as unit:
        assert len(unit.session.exec(select(Appointment)).all()) == 1
