"""The audit page: who changed what, when and why, with the old and new values."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from scheduler.services.audit_log import audit_lines
from scheduler.web.app import TEMPLATES
from scheduler.web.deps import UnitDep

router = APIRouter(include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, unit: UnitDep, subject: str | None = None) -> HTMLResponse:
    lines = audit_lines(unit.session, subject.strip() if subject else None)
    return TEMPLATES.TemplateResponse(
        request, "audit.html", {"lines": lines, "subject": subject or ""}
    )
