"""The appointment rules of the core, without a database: visit types, the clinic's times,
closed days, the free slots nearest the target, and whether a booking still stands."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from scheduler.core.appointments import (
    Booking,
    ClinicHours,
    booking_stands,
    closed_reason,
    free_slots,
    visit_type,
)
from scheduler.core.outputs import VisitPlan

VISIT = VisitPlan(
    code="C2D1", name="Cycle 2 Day 1", anchor="cycle", cycle=2, target=date(2026, 3, 23),
    window_start=date(2026, 3, 20), window_end=date(2026, 3, 26), status="planned",
    tentative=False, dispense=True, procedures=(), bring="",
)  # fmt: skip
HOURS = ClinicHours(
    open_days=frozenset(range(5)), opens_at=time(8, 0), closes_at=time(10, 0), slot_minutes=45,
    capacity={"C{cycle}D1": 2}, default_capacity=1, holidays=frozenset({date(2026, 3, 24)}),
)  # fmt: skip


def test_a_visit_of_every_cycle_is_counted_under_the_protocols_name_for_it():
    assert visit_type("C2D1", 2) == "C{cycle}D1"
    assert visit_type("C1D15", 1) == "C{cycle}D15"
    assert visit_type("C12D1", 12) == "C{cycle}D1"
    assert visit_type("SCR", 1) == "SCR"
    assert visit_type("EOT", None) == "EOT"


def test_the_clinic_offers_whole_slots_before_closing_and_names_why_a_day_is_closed():
    assert HOURS.slot_times() == [time(8, 0), time(8, 45)]  # 09:30 would end after 10:00
    assert closed_reason(HOURS, date(2026, 3, 21)) == "the clinic is closed on Saturdays"
    assert closed_reason(HOURS, date(2026, 3, 24)) == "2026-03-24 is a holiday at the clinic"
    assert closed_reason(HOURS, date(2026, 3, 23)) is None


def test_free_slots_are_nearest_the_target_first_skipping_closed_and_full_days():
    booked = {date(2026, 3, 25): {time(8, 0): 1}}
    full = {date(2026, 3, 23): 2, date(2026, 3, 25): 1}
    slots = free_slots(VISIT, HOURS, booked, full, date(2026, 3, 2))
    # 23 full, 24 a holiday, 22 and 21 a weekend; 25 has one place left, at the free time.
    assert [(s.on, s.at, s.free) for s in slots] == [
        (date(2026, 3, 25), time(8, 45), 1),
        (date(2026, 3, 20), time(8, 0), 2),
        (date(2026, 3, 26), time(8, 0), 2),
    ]
    assert [s.on for s in free_slots(VISIT, HOURS, {}, {}, date(2026, 3, 26))] == [
        date(2026, 3, 26)
    ]  # days that have passed are not offered


def test_a_booking_stands_only_inside_the_window_of_a_visit_still_to_come():
    booking = Booking(visit_code="C2D1", on=date(2026, 3, 23), at=time(9), minutes=30, place="")
    assert booking_stands(VISIT, booking)
    moved = replace(
        VISIT,
        target=date(2026, 3, 30),
        window_start=date(2026, 3, 27),
        window_end=date(2026, 4, 2),
    )
    assert not booking_stands(moved, booking)
    assert not booking_stands(replace(VISIT, tentative=True), booking)
    assert not booking_stands(replace(VISIT, status="done"), booking)
    assert not booking_stands(VISIT, None)
