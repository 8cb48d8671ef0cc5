"""HTML pages for staff: the nurse's worklist."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from scheduler.models import Site
from scheduler.services.validation import parse_date
from scheduler.services.worklist import worklists
from scheduler.web.app import TEMPLATES
from scheduler.web.deps import UnitDep

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, unit: UnitDep, site: str | None = None, date: str | None = None
) -> HTMLResponse:
    """The nurse's worklist: one site (or every site) on one day, most urgent first."""
    day = parse_date("date", date) if date else None
    lists = worklists(unit.session, unit.now, site_code=site or None, on=day)
    sites = list(unit.session.exec(select(Site).order_by(col(Site.code))))
    return TEMPLATES.TemplateResponse(
        request,
        "worklist.html",
        {"lists": lists, "sites": sites, "site": site or "", "day": day},
    )
