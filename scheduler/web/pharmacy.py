"""The pharmacist's printable preparation list: the same rows as ``dosing pharmacy``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from scheduler.services.pharmacy import preparation_list
from scheduler.services.validation import parse_date
from scheduler.web.app import TEMPLATES
from scheduler.web.deps import UnitDep

router = APIRouter()


@router.get("/pharmacy", response_class=HTMLResponse)
def pharmacy_page(
    request: Request,
    unit: UnitDep,
    site: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> HTMLResponse:
    listing = preparation_list(
        unit.session,
        unit.now,
        site_code=site,
        start=parse_date("from", start) if start else None,
        end=parse_date("to", end) if end else None,
        holidays=request.app.state.settings.site_holidays,
    )
    return TEMPLATES.TemplateResponse(request, "pharmacy.html", {"listing": listing})
