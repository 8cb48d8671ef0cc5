"""The audit page: who changed what, when and why, with the old and new values."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from scheduler.errors import InputError
from scheduler.subjects.audit_log import AuditLine, audit_lines
from scheduler.web.deps import CurrentStaff, UnitDep
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, unit: UnitDep, staff: CurrentStaff, subject: str | None = None
) -> HTMLResponse:
    """Every entry, newest first; with ``subject``, that subject's trail. A subject that does
    not exist is said next to the filter field. Reminder addresses are masked for the roles
    that do not manage reminders."""
    wanted = subject.strip() if subject else ""
    lines: list[AuditLine] = []
    error = ""
    status = 200
    try:
        lines = audit_lines(unit.session, wanted or None, role=staff.role)
    except InputError as exc:
        error, status = exc.reason, exc.http_status
    return TEMPLATES.TemplateResponse(
        request,
        "audit.html",
        {"lines": lines, "subject": wanted, "error": error},
        status_code=status,
    )
