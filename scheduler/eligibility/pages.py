"""Screening on the page: the subject's eligibility checklist with a form per criterion (the
nurse's answer with its source document, the investigator's waiver), the screen failure behind
its preview, and the site's screening log. The same services, roles and refusals as
`dosing eligibility`, `dosing screen-fail` and `dosing screening-log`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.eligibility.checklist import (
    ChecklistLine,
    answer_criterion,
    checklist,
    waive_criterion,
)
from scheduler.eligibility.screening import consort_counts, record_screen_failure, screening_log
from scheduler.errors import InputError, NotFound
from scheduler.kernel.actors import INVESTIGATOR_ACTIONS, NURSE_ACTIONS
from scheduler.kernel.subject_state import subject_state
from scheduler.staff.accounts import Staff
from scheduler.web.confirmation import confirmation_page, require_confirmation
from scheduler.web.deps import (
    CurrentStaff,
    InvestigatorStaff,
    NurseStaff,
    SubjectCode,
    request_unit,
)
from scheduler.web.error_pages import problem_page
from scheduler.web.form_errors import FieldProblem, field_problem
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
ANSWER_FIELDS = ("answer", "source")
WAIVER_FIELDS = ("reason",)
NOTICES = {
    "answer": "Answer recorded.",
    "waiver": "Waiver recorded.",
    "failure": "Screen failure recorded: the subject will not start.",
}


def _lines(request: Request, staff: Staff, code: str) -> tuple[list[ChecklistLine], date]:
    with request_unit(request, staff.name) as unit:
        state = subject_state(unit.session, code, unit.now)
        return checklist(unit.session, state), state.today


def _render(
    request: Request,
    staff: Staff,
    code: str,
    *,
    problem: FieldProblem | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        lines, today = _lines(request, staff, code)
    except NotFound as exc:
        if exc.field != "subject":
            raise
        return problem_page(request, "No such subject", exc.reason, exc.http_status)
    context: dict[str, Any] = {
        "staff": staff,
        "code": code,
        "lines": lines,
        "today": today,
        "can_answer": staff.role in NURSE_ACTIONS,
        "can_waive": staff.role in INVESTIGATOR_ACTIONS,
        "problem": problem,
        "values": values or {},
        "notice": NOTICES.get(request.query_params.get("done", ""), ""),
        "failing": any(line.met is False for line in lines),
    }
    return TEMPLATES.TemplateResponse(request, "eligibility.html", context, status_code=status)


@router.get("/subjects/{code}/eligibility", response_class=HTMLResponse)
def eligibility_page(request: Request, code: SubjectCode, staff: CurrentStaff) -> Response:
    return _render(request, staff, code)


@router.post("/subjects/{code}/eligibility/answers", response_class=HTMLResponse)
def answer_form(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    criterion: Text = "",
    answer: Text = "",
    source: Text = "",
) -> Response:
    values = {"criterion": criterion, "answer": answer, "source": source}
    try:
        with request_unit(request, staff.name) as unit:
            answer_criterion(unit, code, criterion=criterion, answer=answer, source=source)
    except InputError as exc:
        problem = field_problem(f"answer-{criterion}", exc, ANSWER_FIELDS)
        return _render(request, staff, code, problem=problem, values=values, status=exc.http_status)
    return RedirectResponse(f"/subjects/{code}/eligibility?done=answer", status_code=303)


@router.post("/subjects/{code}/eligibility/waivers", response_class=HTMLResponse)
def waiver_form(
    request: Request,
    code: SubjectCode,
    staff: InvestigatorStaff,
    criterion: Text = "",
    reason: Text = "",
) -> Response:
    values = {"criterion": criterion, "reason": reason}
    try:
        with request_unit(request, staff.name) as unit:
            waive_criterion(unit, code, criterion=criterion, reason=reason)
    except InputError as exc:
        problem = field_problem(f"waive-{criterion}", exc, WAIVER_FIELDS)
        return _render(request, staff, code, problem=problem, values=values, status=exc.http_status)
    return RedirectResponse(f"/subjects/{code}/eligibility?done=waiver", status_code=303)


def _failure_preview(
    request: Request,
    code: str,
    lines: list[ChecklistLine],
    on: str,
    reason: str = "",
    error: InputError | None = None,
) -> Response:
    failing = [
        f"{line.criterion.code}: {line.criterion.text}" for line in lines if line.met is False
    ]
    changes = [
        f"A screen failure of {code} on {on} is recorded with the criteria not met: "
        + ("; ".join(failing) or "none"),
        f"{code} is discontinued before cycle 1 day 1: every visit and dose of the plan is "
        "cancelled, and the screening log counts the subject as failed.",
        "This cannot be undone from the page; a mistaken screen failure is corrected by a new "
        "record with a reason (voiding).",
    ]
    return confirmation_page(
        request,
        title=f"Record a screen failure of {code}",
        changes=changes,
        action=f"/subjects/{code}/screen-failure",
        hidden={"on": on},
        confirm_label=f"I confirm that {code} failed screening and will not start",
        button="Record the screen failure",
        cancel=f"/subjects/{code}/eligibility",
        reason=reason,
        error=error,
    )


@router.get("/subjects/{code}/screen-failure-preview", response_class=HTMLResponse)
def screen_failure_preview(
    request: Request, code: SubjectCode, staff: InvestigatorStaff, on: str = "", reason: str = ""
) -> Response:
    """What a screen failure does, with the failing criteria, before anything is stored."""
    lines, today = _lines(request, staff, code)
    return _failure_preview(request, code, lines, on or today.isoformat(), reason)


@router.post("/subjects/{code}/screen-failure", response_class=HTMLResponse)
def screen_failure_form(
    request: Request,
    code: SubjectCode,
    staff: InvestigatorStaff,
    on: Text = "",
    reason: Text = "",
    confirm: Text = "",
) -> Response:
    try:
        checked = require_confirmation(reason, confirm)
        with request_unit(request, staff.name) as unit:
            record_screen_failure(unit, code, on=on, reason=checked)
    except InputError as exc:
        lines, _ = _lines(request, staff, code)
        return _failure_preview(request, code, lines, on, reason, exc)
    return RedirectResponse(f"/subjects/{code}/eligibility?done=failure", status_code=303)


@router.get("/screening-log", response_class=HTMLResponse)
def screening_log_page(request: Request, staff: CurrentStaff, site: str = "") -> Response:
    """Who was screened, who failed and why, who started: the counts a CONSORT diagram needs."""
    with request_unit(request, staff.name) as unit:
        lines = screening_log(unit.session, unit.now, site_code=site or None)
    context = {"staff": staff, "lines": lines, "counts": consort_counts(lines), "site": site}
    return TEMPLATES.TemplateResponse(request, "screening_log.html", context)
