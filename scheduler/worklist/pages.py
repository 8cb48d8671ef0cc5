"""HTML pages for staff: the nurse's worklist."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from scheduler.errors import InputError
from scheduler.kernel.actors import NURSE_ACTIONS
from scheduler.kernel.sites import visible_sites
from scheduler.kernel.validation import parse_optional_date
from scheduler.web.deps import CurrentStaff, UnitDep
from scheduler.web.rendering import TEMPLATES
from scheduler.worklist.items import Worklist, worklists

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    unit: UnitDep,
    staff: CurrentStaff,
    site: str | None = None,
    date: str | None = None,
) -> Response:
    """The nurse's worklist: one site (or every site) on one day, most urgent first. A date or
    site that cannot be shown is said next to its picker, with the pickers as typed, so the
    nurse corrects it where she typed it."""
    lists: list[Worklist] = []
    error: InputError | None = None
    try:
        day = parse_optional_date("date", date)
        lists = worklists(unit.session, unit.now, site_code=site or None, on=day)
    except InputError as exc:
        day, error = None, exc
    sites = visible_sites(unit.session)
    context = {
        "lists": lists,
        "sites": sites,
        "site": site or "",
        "day": day,
        "typed_date": date or "",
        "error": error,
        "may_record": staff.role in NURSE_ACTIONS,
    }
    status = error.http_status if error else 200
    return TEMPLATES.TemplateResponse(request, "worklist.html", context, status_code=status)
