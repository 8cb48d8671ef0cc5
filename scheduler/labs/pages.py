"""A subject's labs page: results with their CTCAE grades and baselines, and the form that
records a result through the same service as `dosing lab`. A refused value re-renders the page
with the reason next to the field; nothing is stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.core.wording import N_
from scheduler.eligibility.checklist import checklist
from scheduler.errors import InputError, NotFound
from scheduler.kernel.actors import NURSE_ACTIONS
from scheduler.kernel.subject_state import SubjectState, subject_state
from scheduler.labs.day1 import evaluate_day1
from scheduler.labs.history import subject_labs
from scheduler.labs.results import BLOOD_PRESSURE, record_result
from scheduler.protocols.grading_table import ctcae_v5
from scheduler.staff.accounts import Staff
from scheduler.web.deps import CurrentStaff, NurseStaff, SubjectCode, request_unit
from scheduler.web.error_pages import problem_page
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
FIELDS = ("test", "value", "unit", "lln", "uln", "date", "reason")


def _next_cycle(state: SubjectState) -> int | None:
    """The first cycle from 2 on whose day 1 is today or later: the one a day-1 check is for."""
    for cycle in state.plan().cycles[1:]:
        if cycle.day1 >= state.today:
            return cycle.number
    return None


def _render(
    request: Request,
    staff: Staff,
    code: str,
    *,
    refused: InputError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            state = subject_state(unit.session, code, unit.now)
            labs = subject_labs(unit.session, state)
            screening = checklist(unit.session, state)
            next_cycle = _next_cycle(state)
            day1 = (
                evaluate_day1(unit.session, state, next_cycle) if next_cycle is not None else None
            )
    except NotFound as exc:
        if exc.field != "subject":
            raise
        return problem_page(request, N_("No such subject"), exc.reason, exc.http_status)
    table = ctcae_v5()
    context: dict[str, Any] = {
        "staff": staff,
        "code": code,
        "state": state,
        "labs": labs,
        "tests": [*sorted(table.tests.values(), key=lambda t: t.code)],
        "blood_pressure": BLOOD_PRESSURE,
        "can_record": staff.role in NURSE_ACTIONS,
        "error": refused,
        "field_error": refused.field if refused is not None and refused.field in FIELDS else "",
        "values": values or {},
        "notice": N_("Result recorded.") if request.query_params.get("done") else "",
        "today": state.today,
        "screening": screening,
        "day1": day1,
    }
    status = 200 if refused is None else refused.http_status
    return TEMPLATES.TemplateResponse(request, "labs.html", context, status_code=status)


@router.get("/subjects/{code}/labs", response_class=HTMLResponse)
def labs_page(request: Request, code: SubjectCode, staff: CurrentStaff) -> Response:
    return _render(request, staff, code)


@router.post("/subjects/{code}/labs")
def record_lab_form(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    test: Text = "",
    value: Text = "",
    unit: Text = "",
    lln: Text = "",
    uln: Text = "",
    date: Text = "",
    reason: Text = "",
) -> Response:
    values = {
        "test": test,
        "value": value,
        "unit": unit,
        "lln": lln,
        "uln": uln,
        "date": date,
        "reason": reason,
    }
    try:
        with request_unit(request, staff.name) as work:
            record_result(
                work,
                code,
                test=test,
                value=value,
                unit_text=unit or None,
                on=date,
                lln=lln,
                uln=uln,
                reason=reason,
            )
    except InputError as exc:
        return _render(request, staff, code, refused=exc, values=values)
    return RedirectResponse(f"/subjects/{code}/labs?done=1", status_code=303)
