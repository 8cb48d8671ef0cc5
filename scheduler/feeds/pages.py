"""The staff pages that hand feeds out: the feed link page, its issue and withdrawal forms,
and the printed patient handout."""

from __future__ import annotations

from typing import Annotated

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from scheduler.core import Plan
from scheduler.core.cycles import CyclePlan
from scheduler.core.plan import format_dose
from scheduler.feeds.tokens import (
    PATIENT,
    IssuedToken,
    feed_urls,
    issue_feed,
    live_patient_token,
    revoke_feed,
    token_status,
)
from scheduler.kernel.subject_state import subject_state
from scheduler.web.deps import CurrentStaff, NurseStaff, request_unit
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)


def qr_svg(text: str) -> Markup:
    """An inline SVG QR code (no image files, prints sharp)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg: str = image.to_string(encoding="unicode")
    return Markup(svg)


def _feed_page(
    request: Request, staff: CurrentStaff, code: str, issued: IssuedToken | None, status: int = 200
) -> Response:
    with request_unit(request, staff.name) as unit:
        state = subject_state(unit.session, code, unit.now)
        link = token_status(unit.session, PATIENT, code)
    return TEMPLATES.TemplateResponse(
        request,
        "feed.html",
        {
            "subject": state.subject,
            "link": link,
            "issued": issued,
            "qr": qr_svg(issued.webcal) if issued else None,
        },
        status_code=status,
    )


@router.get("/subjects/{code}/feed", response_class=HTMLResponse)
def feed_page(request: Request, code: str, staff: CurrentStaff) -> Response:
    """Whether the subject has a live feed URL. The URL itself cannot be shown again (only its
    hash is stored): the page offers a new one, which revokes the old."""
    return _feed_page(request, staff, code, None)


@router.post("/subjects/{code}/feed", response_class=HTMLResponse)
def issue_feed_form(
    request: Request, code: str, staff: NurseStaff, reason: Annotated[str, Form()] = ""
) -> Response:
    with request_unit(request, staff.name) as unit:
        issued = issue_feed(unit, request.app.state.settings, PATIENT, code, reason=reason)
    response = _feed_page(request, staff, code, issued)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/subjects/{code}/feed/revoke", response_class=HTMLResponse)
def revoke_feed_form(
    request: Request, code: str, staff: NurseStaff, reason: Annotated[str, Form()] = ""
) -> Response:
    with request_unit(request, staff.name) as unit:
        revoke_feed(unit, PATIENT, code, reason=reason)
    return _feed_page(request, staff, code, None)


def _next_cycle(plan: Plan) -> CyclePlan | None:
    """The cycle the diary is for: the first starting today or later, else the running one."""
    for cycle in plan.cycles:
        if cycle.day1 >= plan.today and cycle.status not in ("cancelled", "stopped"):
            return cycle
    for cycle in plan.cycles:
        if cycle.day1 <= plan.today <= cycle.end and cycle.status == "in_progress":
            return cycle
    return None


def _handout(request: Request, staff: CurrentStaff, code: str, url: str | None) -> Response:
    settings = request.app.state.settings
    with request_unit(request, staff.name) as unit:
        state = subject_state(unit.session, code, unit.now)
    plan = state.plan()
    cycle = _next_cycle(plan)
    visits = [
        v for v in plan.visits if v.window_end >= plan.today and v.status in ("planned", "due")
    ]
    response = TEMPLATES.TemplateResponse(
        request,
        "handout.html",
        {
            "subject": state.subject,
            "cycle": cycle,
            "slots": [s for s in cycle.doses if s.status == "planned"] if cycle else [],
            "per_day": plan.protocol.schedule.administrations_per_day,
            "dose_label": format_dose,
            "dose_time": state.subject.dose_time.strftime("%H:%M"),
            "zone": state.subject.time_zone,
            "visits": visits[:6],
            "phone": state.site.phone or settings.clinic_phone,
            "qr": qr_svg(url) if url else None,
        },
    )
    if url:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/subjects/{code}/handout", response_class=HTMLResponse)
def handout_page(request: Request, code: str, staff: CurrentStaff) -> Response:
    """The one-page patient handout, without a QR code until a link is issued for it."""
    return _handout(request, staff, code, None)


@router.post("/subjects/{code}/handout", response_class=HTMLResponse)
def handout_with_link(
    request: Request, code: str, staff: NurseStaff, token: Annotated[str, Form()] = ""
) -> Response:
    """The handout with the feed's QR code: the link just shown on the feed page (its token is
    posted back and checked against the stored hash), or else a newly issued one."""
    settings = request.app.state.settings
    with request_unit(request, staff.name) as unit:
        if token and live_patient_token(unit.session, code, token):
            url = feed_urls(settings, token)[1]
        else:
            url = issue_feed(unit, settings, PATIENT, code, reason="handout").webcal
    return _handout(request, staff, code, url)
