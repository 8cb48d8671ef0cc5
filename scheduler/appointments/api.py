"""JSON API of appointments: a subject's visits with their bookings and history, the free
slots of a visit, booking and rebooking (nurses and investigators), the day's list of each
clinic, and the clinic's set-up (admins change it). Same services, roles and errors as the CLI."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field

from scheduler.appointments.booking import (
    appointment_history_json,
    book,
    proposals,
    visit_bookings,
)
from scheduler.appointments.clinics import find_clinic, set_up_clinic
from scheduler.appointments.day_list import day_list
from scheduler.errors import InputError, NotFound
from scheduler.kernel.sites import get_site
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.validation import CODE_PATTERN
from scheduler.web.api_types import ERRORS, ApiModel, ClockTime, Code, Day, Reason
from scheduler.web.deps import AdminStaff, NurseStaff, SubjectCode, UnitDep, WriteRoute

router = APIRouter(prefix="/api", route_class=WriteRoute, responses=ERRORS, tags=["appointments"])

VisitCode = Annotated[str, Path(pattern=CODE_PATTERN, description="Visit code, e.g. C2D1")]
SiteCode = Annotated[str, Path(pattern=CODE_PATTERN, description="Site code")]


class BookingIn(ApiModel):
    visit_code: Code = Field(description="Visit code, e.g. C2D1")
    on: Day
    at: ClockTime
    reason: Reason = Field(default="", description="Why it is booked again (needed to rebook)")


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ClinicIn(ApiModel):
    open_days: list[Weekday] | None = Field(
        default=None, description="The days the clinic opens", min_length=1, max_length=7
    )
    opens_at: ClockTime | None = None
    closes_at: ClockTime | None = None
    slot_minutes: int | None = Field(default=None, ge=5, le=240)
    default_capacity: int | None = Field(default=None, ge=0, le=1000)
    capacity: dict[str, Annotated[int, Field(ge=0, le=1000)]] = Field(
        default_factory=dict,
        description='Visits a day by visit type, e.g. {"C{cycle}D1": 20}',
        max_length=100,
    )


_CLINIC_KEYS = {
    "open": "open_days",
    "opens": "opens_at",
    "closes": "closes_at",
    "slot-minutes": "slot_minutes",
    "default-capacity": "default_capacity",
}
"""The service names the CLI's options; the API answers with its own JSON keys."""


def _subject_json(unit: Any, code: str) -> dict[str, Any]:
    state = subject_state(unit.session, code, unit.now)
    return {
        "subject": code,
        "visits": [line.as_json() for line in visit_bookings(unit.session, state)],
        "history": appointment_history_json(unit.session, state),
    }


@router.get("/subjects/{code}/appointments")
def get_appointments(code: SubjectCode, unit: UnitDep) -> dict[str, Any]:
    """Each visit with its current appointment (``stands``: inside the visit's window;
    ``rebook``: the visit moved away from it) and every appointment ever booked (``superseded``
    ones with the ``reason`` of the one that replaced them)."""
    return _subject_json(unit, code)


@router.get("/subjects/{code}/appointments/{visit}/slots")
def get_slots(
    code: SubjectCode,
    visit: VisitCode,
    unit: UnitDep,
    count: Annotated[int, Query(ge=1, le=20, description="Slots proposed at most")] = 5,
) -> dict[str, Any]:
    """The first free days of the visit's window, nearest the target first, each at its
    earliest least-booked time, with the places left that day for the visit's type."""
    state = subject_state(unit.session, code, unit.now)
    slots = proposals(unit.session, state, visit, unit.settings, count=count)
    return {
        "subject": code,
        "visit_code": visit,
        "slots": [{"on": s.on, "at": f"{s.at:%H:%M}", "free": s.free} for s in slots],
    }


@router.post("/subjects/{code}/appointments", status_code=201)
def post_appointment(
    code: SubjectCode, body: BookingIn, _staff: NurseStaff, unit: UnitDep
) -> dict[str, Any]:
    """Book a visit (or book it again, with the reason): refused, naming why, for a day outside
    the window or past, a closed day or holiday, a time outside the clinic's hours, or a full
    day."""
    try:
        row = book(unit, code, body.visit_code, on=body.on, at=body.at, reason=body.reason)
    except InputError as exc:
        if exc.field != "visit":
            raise
        raise type(exc)("visit_code", exc.reason) from None
    return {
        "id": row.id,
        "visit_code": row.visit_code,
        "on": row.day,
        "at": f"{row.start:%H:%M}",
        "minutes": row.minutes,
        "replaces": row.replaces_id,
        "reason": row.reason,
    }


@router.get("/appointments")
def get_day_list(
    unit: UnitDep,
    site: Annotated[Code | None, Query(description="Site code")] = None,
    on: Annotated[
        Day | None, Query(alias="date", description="Default: today at each site")
    ] = None,
) -> dict[str, Any]:
    """The day's booked appointments per clinic, as ``dosing appointments --json``."""
    return {"appointments": [line.as_json() for line in day_list(unit.session, unit.now, on, site)]}


@router.get("/clinics/{site}")
def get_clinic(site: SiteCode, unit: UnitDep) -> dict[str, Any]:
    """The site's clinic: opening days, hours, appointment length, capacity per visit type."""
    found = find_clinic(unit.session, get_site(unit.session, site))
    if found is None:
        raise NotFound("site", f"{site} has no clinic set up")
    return found.as_json()


@router.put("/clinics/{site}", tags=["admin"])
def put_clinic(site: SiteCode, body: ClinicIn, _staff: AdminStaff, unit: UnitDep) -> dict[str, Any]:
    """Set up the site's clinic or change what the body gives (audited)."""
    try:
        view = set_up_clinic(
            unit,
            site,
            open_days=",".join(body.open_days) if body.open_days is not None else None,
            opens_at=body.opens_at,
            closes_at=body.closes_at,
            slot_minutes=body.slot_minutes,
            default_capacity=body.default_capacity,
            capacities=body.capacity,
        )
    except InputError as exc:
        if exc.field not in _CLINIC_KEYS:
            raise
        raise type(exc)(_CLINIC_KEYS[exc.field], exc.reason) from None
    return view.as_json()
