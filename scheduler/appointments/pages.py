"""The booking page of a subject (linked from the subject page): each visit still to come with
its appointment, a form proposing the first free slots of its window, and the history of every
appointment booked; and the day's list of each clinic. Forms go through the same service as
`dosing book`; a refused one re-renders the page with the summary at the top and the input
kept, and nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.appointments.booking import book, free_slots_of, history, visit_bookings
from scheduler.appointments.clinics import ClinicView, find_clinic
from scheduler.appointments.day_list import DayLine, day_list
from scheduler.core.appointments import Slot
from scheduler.errors import InputError, NotFound
from scheduler.kernel.actors import NURSE_ACTIONS
from scheduler.kernel.sites import visible_sites
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.validation import parse_optional_date
from scheduler.staff.accounts import Staff
from scheduler.web.deps import CurrentStaff, NurseStaff, SubjectCode, request_unit
from scheduler.web.error_pages import problem_page
from scheduler.web.form_errors import FieldProblem, field_problem
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
FIELDS = ("on", "at", "reason")


@dataclass(frozen=True)
class _Row:
    """A visit row of the page: its booking and, while it can be booked, the free slots."""

    booking: Any
    slots: list[Slot]
    bookable: bool


def _render(
    request: Request,
    staff: Staff,
    code: str,
    *,
    refused: FieldProblem | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            state = subject_state(unit.session, code, unit.now)
            clinic: ClinicView | None = find_clinic(unit.session, state.site)
            rows = []
            for line in visit_bookings(unit.session, state):
                visit = line.visit
                bookable = (
                    clinic is not None
                    and visit.status in ("planned", "due")
                    and not visit.tentative
                    and visit.window_end >= state.today
                )
                slots = []
                if bookable and clinic is not None:
                    slots = free_slots_of(unit.session, state, visit, clinic, unit.settings)
                rows.append(_Row(line, slots, bookable))
            booked = history(unit.session, state.subject.id or 0)
    except NotFound as exc:
        if exc.field != "subject":
            raise
        return problem_page(request, "No such subject", exc.reason, exc.http_status)
    context: dict[str, Any] = {
        "staff": staff,
        "code": code,
        "site": state.site,
        "today": state.today,
        "clinic": clinic,
        "rows": rows,
        "history": booked,
        "can_book": staff.role in NURSE_ACTIONS,
        "problem": refused,
        "values": values or {},
        "notice": request.query_params.get("booked", ""),
    }
    return TEMPLATES.TemplateResponse(request, "appointments.html", context, status_code=status)


@router.get("/subjects/{code}/appointments", response_class=HTMLResponse)
def appointments_page(request: Request, code: SubjectCode, staff: CurrentStaff) -> Response:
    return _render(request, staff, code)


@router.post("/subjects/{code}/appointments")
def book_form(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    visit: Text = "",
    on: Text = "",
    at: Text = "",
    reason: Text = "",
) -> Response:
    values = {"visit": visit, "on": on, "at": at, "reason": reason}
    try:
        with request_unit(request, staff.name) as unit:
            book(unit, code, visit, on=on, at=at, reason=reason)
    except InputError as exc:
        if exc.field == "subject":
            raise
        problem = field_problem(f"book-{visit}", exc, FIELDS)
        return _render(request, staff, code, refused=problem, values=values, status=exc.http_status)
    return RedirectResponse(f"/subjects/{code}/appointments?booked={visit}", status_code=303)


@router.get("/appointments", response_class=HTMLResponse)
def day_page(request: Request, staff: CurrentStaff) -> Response:
    """The day's appointments of each clinic the account sees (``?site=`` for one)."""
    site = request.query_params.get("site") or None
    problem = None
    lines: list[DayLine] = []
    try:
        day = parse_optional_date("date", request.query_params.get("date") or None)
        with request_unit(request, staff.name) as unit:
            sites = visible_sites(unit.session)
            lines = day_list(unit.session, unit.now, day, site)
    except InputError as exc:
        problem = field_problem("day", exc, ("date", "site"))
        with request_unit(request, staff.name) as unit:
            sites = visible_sites(unit.session)
    by_site: dict[str, list[DayLine]] = {}
    for line in lines:
        by_site.setdefault(line.site, []).append(line)
    context = {
        "staff": staff,
        "sites": sites,
        "chosen_site": site or "",
        "chosen_date": request.query_params.get("date", ""),
        "by_site": by_site,
        "problem": problem,
    }
    return TEMPLATES.TemplateResponse(
        request,
        "appointments_day.html",
        context,
        status_code=200 if problem is None else 422,
    )
