"""The reminder outbox for the admin role: how many reminders are in each state, which ones are
retrying (with their next attempt) and which were given up, each with its last error. The same
report as ``dosing reminders status``, limited to the admin's sites (an admin of one site sees
neither other sites' subjects nor the staff digests)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from scheduler.reminders.outbox import outbox_status
from scheduler.web.deps import AdminStaff, UnitDep
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)

FAILURES_SHOWN = 200


@router.get("/admin/reminders", response_class=HTMLResponse)
def reminders_page(request: Request, staff: AdminStaff, unit: UnitDep) -> Response:
    report = outbox_status(unit.session, limit=FAILURES_SHOWN)
    context = {
        "report": report,
        "now": request.app.state.clock.now(),
        "shown": FAILURES_SHOWN,
    }
    return TEMPLATES.TemplateResponse(request, "reminders.html", context)
