"""Booking a visit: a date and a time inside its window, on a day the site's clinic is open and
not full. Rebooking adds an appointment that supersedes the current one, with a reason.

A visit's current appointment is its latest: the one no other appointment replaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from sqlalchemy import bindparam, exists, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from scheduler.appointments.clinics import ClinicView, clinic_hours, find_clinic
from scheduler.core.appointments import (
    Booking,
    Slot,
    booking_stands,
    closed_reason,
    free_slots,
    visit_type,
)
from scheduler.core.visits import VisitPlan
from scheduler.errors import Conflict, InputError, NotFound, RuleViolation
from scheduler.kernel.subject_state import SubjectState, subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text, parse_date, parse_time
from scheduler.models import Appointment, Clinic, Site
from scheduler.settings import Settings

_LATER = aliased(Appointment)
CURRENT = ~exists().where(col(_LATER.replaces_id) == col(Appointment.id))
"""An appointment no other one replaces."""
_CURRENT_OF = (
    select(Appointment)
    .where(col(Appointment.subject_id).in_(bindparam("ids", expanding=True)), CURRENT)
    .order_by(col(Appointment.id))
)
"""Built once: every write reads it (the worklist's and the reminders' rows)."""


def current_appointments(
    session: Session, subject_ids: Iterable[int]
) -> dict[int, dict[str, Appointment]]:
    """Each subject's current appointment per visit code."""
    found: dict[int, dict[str, Appointment]] = {}
    ids = list(subject_ids)
    if not ids:
        return found
    for row in session.exec(_CURRENT_OF, params={"ids": ids}):
        found.setdefault(row.subject_id, {})[row.visit_code] = row
    return found


def place_of(site: Site) -> str:
    """Where the patient goes: the site's name and address."""
    return ", ".join(part for part in (site.name, site.address) if part)


def bookings_of(
    session: Session, subject_ids: Sequence[int], sites: Mapping[int, Site] | None = None
) -> dict[int, dict[str, Booking]]:
    """The current bookings of these subjects as the feeds, reminders and worklist rows read
    them; ``sites`` give the place (the site's name and address), else it is left empty."""
    return {
        subject_id: {
            code: Booking(
                visit_code=code,
                on=row.day,
                at=row.start,
                minutes=row.minutes,
                place=place_of(sites[row.site_id]) if sites is not None else "",
            )
            for code, row in rows.items()
        }
        for subject_id, rows in current_appointments(session, subject_ids).items()
    }


def _visit(state: SubjectState, visit_code: str) -> VisitPlan:
    plan = state.plan()
    visit = plan.visit(visit_code)
    if visit is None:
        codes = ", ".join(v.code for v in plan.visits)
        raise NotFound(
            "visit", f"{visit_code!r} is not a visit of {state.subject.code}'s plan ({codes})"
        )
    return visit


def _bookable(visit: VisitPlan) -> None:
    if visit.status == "done":
        raise Conflict("visit", f"{visit.code} was done on {visit.actual}: nothing to book")
    if visit.status == "cancelled":
        raise RuleViolation("visit", f"{visit.code} is cancelled: treatment was discontinued")
    if visit.tentative:
        raise RuleViolation(
            "visit", f"{visit.code} waits for the hold to end: its date is not known yet"
        )


def _clinic(session: Session, site: Site) -> ClinicView:
    clinic = find_clinic(session, site)
    if clinic is None:
        raise Conflict(
            "site",
            f"{site.code} has no clinic set up (an admin sets it up: `dosing clinic "
            f"{site.code} --open mon,tue,...`)",
        )
    return clinic


def _booked(
    session: Session, site_id: int, first: date, last: date, kind: str, *, leaving: int | None
) -> tuple[dict[date, dict[time, int]], dict[date, int]]:
    """Current appointments at the site from ``first`` to ``last``: by day and time (any type),
    and by day for ``kind``. ``leaving``: an appointment being replaced, not counted."""
    query = (
        sa_select(
            col(Appointment.day), col(Appointment.start), col(Appointment.visit_type), func.count()
        )
        .where(
            col(Appointment.site_id) == site_id,
            col(Appointment.day) >= first,
            col(Appointment.day) <= last,
            CURRENT,
        )
        .group_by(col(Appointment.day), col(Appointment.start), col(Appointment.visit_type))
    )
    if leaving is not None:
        query = query.where(col(Appointment.id) != leaving)
    by_time: dict[date, dict[time, int]] = {}
    of_type: dict[date, int] = {}
    for day, start, booked_type, count in session.execute(query):
        slots = by_time.setdefault(day, {})
        slots[start] = slots.get(start, 0) + count
        if booked_type == kind:
            of_type[day] = of_type.get(day, 0) + count
    return by_time, of_type


def proposals(
    session: Session, state: SubjectState, visit_code: str, settings: Settings, *, count: int = 5
) -> list[Slot]:
    """The first free slots of the visit's window, nearest the target first."""
    visit = _visit(state, visit_code)
    _bookable(visit)
    return free_slots_of(session, state, visit, _clinic(session, state.site), settings, count)


def free_slots_of(
    session: Session,
    state: SubjectState,
    visit: VisitPlan,
    clinic: ClinicView,
    settings: Settings,
    count: int = 5,
) -> list[Slot]:
    """``proposals`` for a visit of a plan already drawn (a page lists every visit's)."""
    subject_id = state.subject.id or 0
    current = current_appointments(session, [subject_id]).get(subject_id, {}).get(visit.code)
    by_time, of_type = _booked(
        session,
        state.site.id or 0,
        visit.window_start,
        visit.window_end,
        visit_type(visit.code, visit.cycle),
        leaving=current.id if current is not None else None,
    )
    return free_slots(
        visit, clinic_hours(clinic, settings), by_time, of_type, state.today, count=count
    )


def book(
    unit: Unit, code: str, visit_code: str, *, on: str | date, at: str | time, reason: str = ""
) -> Appointment:
    """Book ``visit_code`` on ``on`` at ``at``; a visit already booked is booked again only with
    a reason (the earlier appointment stays, superseded). Refused, naming why: a day outside
    the window or in the past, a closed day or a holiday, a time outside the clinic's hours, a
    day whose capacity for the visit's type is taken."""
    state = subject_state(unit.session, code, unit.now)
    day = parse_date("on", on)
    start = parse_time("at", at)
    reason = check_text("reason", reason, required=False)
    visit = _visit(state, visit_code)
    _bookable(visit)
    if not visit.in_window(day):
        raise InputError(
            "on",
            f"{day} is outside {visit_code}'s window: book a day from {visit.window_start} to "
            f"{visit.window_end}",
        )
    if day < state.today:
        raise InputError("on", f"{day} has passed (today is {state.today})")
    site = state.site
    # Bookings of one site queue here, so two nurses cannot both take a day's last place.
    unit.session.exec(select(Clinic).where(Clinic.site_id == site.id).with_for_update()).first()
    clinic = _clinic(unit.session, site)
    hours = clinic_hours(clinic, unit.settings)
    closed = closed_reason(hours, day)
    if closed is not None:
        raise InputError("on", closed)
    times = hours.slot_times()
    if not times or not times[0] <= start <= times[-1]:
        raise InputError(
            "at",
            f"the clinic books from {hours.opens_at:%H:%M} to {hours.closes_at:%H:%M} "
            f"({hours.slot_minutes}-minute visits): got {start:%H:%M}",
        )
    current = (
        current_appointments(unit.session, [state.subject.id or 0])
        .get(state.subject.id or 0, {})
        .get(visit_code)
    )
    if current is not None:
        if (current.day, current.start) == (day, start):
            raise Conflict("on", f"{visit_code} is already booked on {day} at {start:%H:%M}")
        if not reason:
            raise Conflict(
                "reason",
                f"{visit_code} is booked on {current.day} at {current.start:%H:%M}: "
                "give the reason to book it again",
            )
    kind = visit_type(visit.code, visit.cycle)
    _, of_type = _booked(
        unit.session, site.id or 0, day, day, kind,
        leaving=current.id if current is not None else None,
    )  # fmt: skip
    capacity = hours.capacity_of(kind)
    if of_type.get(day, 0) >= capacity:
        raise Conflict(
            "on",
            f"{day} is full: {of_type.get(day, 0)} of {capacity} {kind} visits are booked",
        )
    row = Appointment(
        subject_id=state.subject.id or 0,
        site_id=site.id or 0,
        visit_code=visit_code,
        visit_type=kind,
        day=day,
        start=start,
        minutes=hours.slot_minutes,
        replaces_id=current.id if current is not None else None,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "appointment.rebook" if current is not None else "appointment.book",
        entity="appointment",
        entity_id=row.id,
        subject_id=state.subject.id,
        old=None if current is None else _values(current),
        new=_values(row),
        reason=reason,
    )
    return row


def _values(row: Appointment) -> dict[str, Any]:
    return {"visit": row.visit_code, "on": row.day, "at": f"{row.start:%H:%M}"}


@dataclass(frozen=True)
class VisitBooking:
    """A visit of the subject's plan with its appointment, for the subject page and API."""

    visit: VisitPlan
    appointment: Appointment | None
    stands: bool
    """The appointment is inside the visit's (current) window: the patient sees it."""

    @property
    def needs_booking(self) -> bool:
        return (
            self.visit.status not in ("done", "cancelled")
            and not self.visit.tentative
            and not self.stands
        )

    def as_json(self) -> dict[str, Any]:
        row = self.appointment
        return {
            "visit_code": self.visit.code,
            "target": self.visit.target,
            "window_start": self.visit.window_start,
            "window_end": self.visit.window_end,
            "status": self.visit.status,
            "tentative": self.visit.tentative,
            "appointment": None
            if row is None
            else {"id": row.id, "on": row.day, "at": f"{row.start:%H:%M}", "minutes": row.minutes},
            "stands": self.stands,
            "rebook": row is not None and not self.stands and self.needs_booking,
        }


def visit_bookings(session: Session, state: SubjectState) -> list[VisitBooking]:
    current = current_appointments(session, [state.subject.id or 0]).get(state.subject.id or 0, {})
    lines = []
    for visit in state.plan().visits:
        row = current.get(visit.code)
        booking = None
        if row is not None:
            booking = Booking(
                visit_code=visit.code, on=row.day, at=row.start, minutes=row.minutes, place=""
            )
        lines.append(VisitBooking(visit, row, booking_stands(visit, booking)))
    return lines


def history(session: Session, subject_id: int) -> list[tuple[Appointment, bool]]:
    """Every appointment of the subject, oldest first, with whether it is superseded."""
    rows = list(
        session.exec(
            select(Appointment)
            .where(Appointment.subject_id == subject_id)
            .order_by(col(Appointment.id))
        )
    )
    replaced = {row.replaces_id for row in rows if row.replaces_id is not None}
    return [(row, row.id in replaced) for row in rows]


def appointment_history_json(session: Session, state: SubjectState) -> list[dict[str, Any]]:
    return [
        {
            "id": row.id,
            "visit_code": row.visit_code,
            "on": row.day,
            "at": f"{row.start:%H:%M}",
            "minutes": row.minutes,
            "replaces": row.replaces_id,
            "superseded": superseded,
            "reason": row.reason,
            "recorded_at": row.recorded_at,
            "recorded_by": row.recorded_by,
        }
        for row, superseded in history(session, state.subject.id or 0)
    ]
