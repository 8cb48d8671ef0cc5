"""Confirming a cycle's day-1 criteria from the page (``/subjects/CODE/day1?cycle=N``), the
form the worklist row "day-1 criteria" links to. It calls ``confirm_day1``, the service of
``dosing criteria``: "not met" names the failing criterion, a second check on one day corrects
the first and needs a reason, and a refused value stores nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.core.wording import N_
from scheduler.errors import InputError, NotFound
from scheduler.kernel.subject_state import subject_state
from scheduler.pharmacy.accountability import confirm_day1
from scheduler.pharmacy.forms import Text
from scheduler.protocols.schema import Day1Criterion
from scheduler.staff.accounts import Staff
from scheduler.web.deps import NurseStaff, SubjectCode, request_unit
from scheduler.web.error_pages import problem_page
from scheduler.web.form_errors import FieldProblem, field_problem
from scheduler.web.forms import whole
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)

DAY1_FIELDS = ("cycle", "outcome", "criterion", "reason", "on")


def not_met_reason(criteria: tuple[Day1Criterion, ...], criterion: str, note: str) -> str:
    """The reason stored with "not met": the failing criterion as the protocol words it, and
    the nurse's note (a value, a comment) after it."""
    named = next((c for c in criteria if c.code == criterion), None)
    if named is None and criterion:
        raise InputError("criterion", f"{criterion!r} is not one of the protocol's criteria")
    if named is None:
        if not note.strip():
            raise InputError("criterion", "choose the criterion that was not met")
        return note
    label = f"{named.code}: {named.description}"
    return f"{label} ({note.strip()})" if note.strip() else label


def _page(
    request: Request,
    staff: Staff,
    code: str,
    values: dict[str, str],
    problem: FieldProblem | None = None,
    status: int = 200,
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            state = subject_state(unit.session, code, unit.now)
    except NotFound as exc:
        if exc.field != "subject":
            raise
        return problem_page(request, N_("No such subject"), exc.reason, exc.http_status)
    plan = state.plan()
    waiting = plan.waiting_for_criteria()
    context: dict[str, Any] = {
        "plan": plan,
        "criteria": state.protocol.day1_criteria,
        "cycles": [c for c in plan.cycles if c.status != "cancelled"],
        "waiting": waiting,
        "values": values,
        "problem": problem,
    }
    return TEMPLATES.TemplateResponse(request, "day1.html", context, status_code=status)


@router.get("/subjects/{code}/day1", response_class=HTMLResponse)
def day1_form(request: Request, code: SubjectCode, staff: NurseStaff, cycle: str = "") -> Response:
    return _page(request, staff, code, {"cycle": cycle})


@router.post("/subjects/{code}/day1")
def day1_submit(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    cycle: Text = "",
    outcome: Text = "",
    criterion: Text = "",
    reason: Text = "",
    on: Text = "",
) -> Response:
    values = {
        "cycle": cycle,
        "outcome": outcome,
        "criterion": criterion,
        "reason": reason,
        "on": on,
    }
    try:
        with request_unit(request, staff.name) as unit:
            if outcome not in ("met", "not_met"):
                raise InputError("outcome", "choose met or not met")
            number = whole("cycle", cycle, digits=3)
            met = outcome == "met"
            if not met:
                protocol = subject_state(unit.session, code, unit.now).protocol
                reason = not_met_reason(protocol.day1_criteria, criterion, reason)
            confirm_day1(unit, code, cycle=number, met=met, reason=reason, on=on or None)
    except InputError as exc:
        problem = field_problem("day1", exc, DAY1_FIELDS)
        return _page(request, staff, code, values, problem, exc.http_status)
    return RedirectResponse(f"/subjects/{code}?done=day1-{outcome}", status_code=303)
