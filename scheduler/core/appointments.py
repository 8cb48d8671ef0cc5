"""Appointments: a visit booked for a date and a time at the site's clinic.

The plan places each visit on a target inside a window; a patient needs one day and one time.
The rules here are pure: which days a clinic can take a visit (open, not a holiday, not full),
which slots to propose (nearest the target first), and whether a booking still stands once the
plan has moved (a hold or a delay moves a cycle, and a booking outside its new window is stale:
the patient is not told its date, and the nurses are asked to book again).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from datetime import date, time, timedelta

from scheduler.core.outputs import VisitPlan

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Opening days are written with these names (``date.weekday()`` is the index)."""
WEEKDAY_NAMES: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)


def visit_type(code: str, cycle: int | None) -> str:
    """The protocol's name for visits that repeat each cycle ("C2D1" of cycle 2 is
    "C{cycle}D1"), so one capacity covers every cycle's day 1; other visits are their code."""
    prefix = f"C{cycle}D"
    if cycle is not None and code.startswith(prefix):
        return "C{cycle}D" + code[len(prefix) :]
    return code


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicHours:
    """What a clinic offers: the days it opens, its hours, and how many of each visit type it
    can see in one day (``default_capacity`` for a type it does not name)."""

    open_days: frozenset[int]
    """Weekday indexes, Monday 0."""
    opens_at: time
    closes_at: time
    slot_minutes: int
    capacity: Mapping[str, int]
    default_capacity: int
    holidays: Set[date]

    def capacity_of(self, kind: str) -> int:
        return self.capacity.get(kind, self.default_capacity)

    def slot_times(self) -> list[time]:
        """The times proposed in a day: from opening, one per slot, the last ending by closing."""
        times = []
        minutes = self.opens_at.hour * 60 + self.opens_at.minute
        close = self.closes_at.hour * 60 + self.closes_at.minute
        while minutes + self.slot_minutes <= close:
            times.append(time(minutes // 60, minutes % 60))
            minutes += self.slot_minutes
        return times


ClosedReason = str
"""Why a day cannot take a visit, in staff words ("the clinic is closed on Sundays")."""


def closed_reason(hours: ClinicHours, day: date) -> ClosedReason | None:
    """Why the clinic cannot see anyone on ``day``, or None when it is open."""
    if day in hours.holidays:
        return f"{day.isoformat()} is a holiday at the clinic"
    if day.weekday() not in hours.open_days:
        return f"the clinic is closed on {WEEKDAY_NAMES[day.weekday()]}s"
    return None


@dataclass(frozen=True, slots=True)
class Slot:
    """A proposed date and time."""

    on: date
    at: time
    free: int
    """Places left that day for the visit's type."""


def _nearest_first(visit: VisitPlan, today: date) -> Iterator[date]:
    """The window's days not before ``today``, nearest the target first (earlier on a tie)."""
    start = max(visit.window_start, today)
    days = [start + timedelta(days=n) for n in range((visit.window_end - start).days + 1)]
    return iter(sorted(days, key=lambda d: (abs((d - visit.target).days), d)))


def free_slots(
    visit: VisitPlan,
    hours: ClinicHours,
    booked: Mapping[date, Mapping[time, int]],
    booked_of_type: Mapping[date, int],
    today: date,
    *,
    count: int = 5,
) -> list[Slot]:
    """The first ``count`` days of the window the clinic can take this visit on, nearest the
    target first, each at the earliest of its least-booked times (``booked``: appointments of
    any type by day and time; ``booked_of_type``: those of the visit's type by day)."""
    capacity = hours.capacity_of(visit_type(visit.code, visit.cycle))
    times = hours.slot_times()
    slots: list[Slot] = []
    for day in _nearest_first(visit, today):
        if len(slots) == count:
            break
        free = capacity - booked_of_type.get(day, 0)
        if free <= 0 or closed_reason(hours, day) is not None or not times:
            continue
        taken = booked.get(day, {})
        at = min(times, key=lambda t: (taken.get(t, 0), t))
        slots.append(Slot(day, at, free))
    return slots


@dataclass(frozen=True, slots=True, kw_only=True)
class Booking:
    """A visit's current appointment, as the feed and reminders show it."""

    visit_code: str
    on: date
    at: time
    minutes: int
    place: str
    """The site's name and address (LOCATION)."""


def booking_stands(visit: VisitPlan, booking: Booking | None) -> bool:
    """Whether the patient may be told this booking: the visit is still to come on a known
    date (not done, not cancelled, not behind an open hold) and the booked day is inside its
    window. A booking the plan has moved away from is stale until it is booked again."""
    return (
        booking is not None
        and visit.status not in ("done", "cancelled")
        and not visit.tentative
        and visit.in_window(booking.on)
    )
