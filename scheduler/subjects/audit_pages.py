"""The audit page: who changed what, when and why, with the old and new values; and one
subject's whole trail as a CSV download (audited like every export)."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from scheduler.errors import InputError
from scheduler.kernel.subject_state import get_subject
from scheduler.subjects.audit_log import AuditLine, audit_lines
from scheduler.web.deps import CurrentStaff, UnitDep
from scheduler.web.downloads import audit_download, file_response
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)

CSV_HEADERS = [
    "id",
    "at_utc",
    "actor",
    "action",
    "entity",
    "entity_id",
    "subject",
    "old_value",
    "new_value",
    "reason",
]
WHOLE_TRAIL = 10_000_000
"""No limit in practice: the download is the subject's whole trail."""


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


@router.get("/audit.csv")
def audit_csv(unit: UnitDep, staff: CurrentStaff, subject: str = "") -> Response:
    """One subject's trail, oldest first, as the viewer may see it (addresses masked as on
    the page)."""
    if not subject.strip():
        raise InputError("subject", "type the subject's code")
    found = get_subject(unit.session, subject.strip())
    lines = audit_lines(unit.session, found.code, WHOLE_TRAIL, role=staff.role)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADERS)
    for line in reversed(lines):
        e = line.entry
        writer.writerow(
            [
                e.id,
                e.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                e.actor,
                e.action,
                e.entity,
                "" if e.entity_id is None else e.entity_id,
                line.subject or "",
                line.old_value or "",
                line.new_value or "",
                e.reason,
            ]
        )
    audit_download(unit, "audit-trail", subject_id=found.id, subject=found.code, rows=len(lines))
    return file_response(buffer.getvalue(), f"{found.code}-audit.csv", "text/csv; charset=utf-8")
