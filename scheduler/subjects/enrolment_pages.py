"""Enrolling a subject from the page (``/subjects/new``), and the search box every page
carries (``/subjects?q=``). The form calls ``enroll``, the service of ``dosing enroll``, so the
page refuses what the CLI refuses with the same reasons, and stores nothing when it does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from scheduler.errors import InputError
from scheduler.i18n import LANGUAGE_NAMES
from scheduler.kernel.protocol_versions import latest_version, protocol_of
from scheduler.kernel.sites import visible_sites
from scheduler.models import ProtocolVersion
from scheduler.protocols import DEFAULT_PROTOCOL_ID
from scheduler.staff.accounts import Staff
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.search import find_subjects
from scheduler.web.deps import NurseStaff, UnitDep, request_unit
from scheduler.web.form_errors import FieldProblem, field_problem
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]

ENROL_FIELDS = (
    "subject",
    "site",
    "protocol",
    "c1d1",
    "surgery",
    "tz",
    "dose_time",
    "language",
    "reason",
)


def _protocols(session: Session) -> list[dict[str, Any]]:
    """Each protocol's latest version, with whether enrolment needs the surgery date."""
    ids = session.exec(select(ProtocolVersion.protocol_id).distinct()).all()
    shown = []
    for protocol_id in sorted(ids, key=lambda p: (p != DEFAULT_PROTOCOL_ID, p)):
        protocol = protocol_of(latest_version(session, protocol_id))
        shown.append(
            {
                "id": protocol.id,
                "version": protocol.version,
                "title": f"{protocol.drug.name}, {protocol.id} v{protocol.version}",
                "needs_surgery": protocol.needs_surgery,
                "dose_time": protocol.schedule.default_dose_time.strftime("%H:%M"),
            }
        )
    return shown


def _enrol_page(
    request: Request,
    staff: Staff,
    values: dict[str, str],
    problem: FieldProblem | None = None,
    status: int = 200,
) -> Response:
    with request_unit(request, staff.name) as unit:
        sites = visible_sites(unit.session)
        protocols = _protocols(unit.session)
    context = {
        "sites": sites,
        "protocols": protocols,
        "languages": LANGUAGE_NAMES,
        "values": values,
        "problem": problem,
    }
    return TEMPLATES.TemplateResponse(request, "enrol.html", context, status_code=status)


@router.get("/subjects/new", response_class=HTMLResponse)
def enrol_form(request: Request, staff: NurseStaff) -> Response:
    return _enrol_page(request, staff, {})


@router.post("/subjects")
def enrol_submit(
    request: Request,
    staff: NurseStaff,
    subject: Text = "",
    site: Text = "",
    protocol: Text = "",
    c1d1: Text = "",
    surgery: Text = "",
    tz: Text = "",
    dose_time: Text = "",
    language: Text = "",
    reason: Text = "",
) -> Response:
    """Enrol as ``dosing enroll`` does. Left empty, the zone and the patient's language are
    the site's and the dose time the protocol's default, as when the CLI's options are left
    out."""
    values = {
        "subject": subject,
        "site": site,
        "protocol": protocol,
        "c1d1": c1d1,
        "surgery": surgery,
        "tz": tz,
        "dose_time": dose_time,
        "language": language,
        "reason": reason,
    }
    try:
        with request_unit(request, staff.name) as unit:
            if not site:
                raise InputError("site", "choose the subject's site")
            row = enroll(
                unit,
                subject,
                c1d1=c1d1,
                surgery=surgery or None,
                site_code=site,
                time_zone=tz.strip() or None,
                dose_time=dose_time or None,
                protocol_id=protocol or None,
                reason=reason,
                language=language or None,
            )
            code = row.code
    except InputError as exc:
        problem = field_problem("enrol", exc, ENROL_FIELDS)
        return _enrol_page(request, staff, values, problem, exc.http_status)
    return RedirectResponse(f"/subjects/{code}?done=enrol", status_code=303)


@router.get("/subjects", response_class=HTMLResponse)
def search(request: Request, unit: UnitDep, q: str = "") -> Response:
    """The search box: straight to the subject when the text names one, else the matches."""
    try:
        result = find_subjects(unit.session, q)
    except InputError as exc:
        context: dict[str, Any] = {"result": None, "text": q, "error": exc}
        return TEMPLATES.TemplateResponse(
            request, "search.html", context, status_code=exc.http_status
        )
    only = result.only()
    if only is not None:
        return RedirectResponse(f"/subjects/{only}", status_code=303)
    found: dict[str, Any] = {"result": result, "text": q, "error": None}
    return TEMPLATES.TemplateResponse(request, "search.html", found)
