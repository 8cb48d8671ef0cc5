"""The exports page (``/exports``) and its downloads: the SDTM-shaped EX, DA and SV CSVs, a
subject's FHIR bundle and the preparation list CSV, the same bytes as ``dosing export``,
``dosing fhir`` and ``dosing pharmacy --csv``. A subject's audit trail CSV is the audit page's
(``/audit.csv``); this page links to it. Every download is audited (``web.downloads``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from scheduler.errors import InputError
from scheduler.kernel.sites import get_site, visible_sites
from scheduler.kernel.subject_state import get_subject
from scheduler.kernel.validation import parse_optional_date
from scheduler.pharmacy.fhir_export import subject_bundle_json
from scheduler.pharmacy.preparation_csv import preparation_csv
from scheduler.pharmacy.preparation_list import preparation_list
from scheduler.pharmacy.sdtm import DOMAINS, export_csv
from scheduler.web.deps import SubjectCode, UnitDep
from scheduler.web.downloads import audit_download, file_response
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)


@router.get("/exports", response_class=HTMLResponse)
def exports_page(request: Request, unit: UnitDep) -> Response:
    context = {"sites": visible_sites(unit.session), "domains": DOMAINS}
    return TEMPLATES.TemplateResponse(request, "exports.html", context)


def _site(unit: UnitDep, site: str) -> str | None:
    """The site filter: empty means every site the account sees; a site it may not see is a
    404, as on the lists."""
    return get_site(unit.session, site).code if site else None


@router.get("/exports/sdtm/{domain}.csv")
def sdtm_download(unit: UnitDep, domain: str, site: str = "") -> Response:
    site_code = _site(unit, site)
    text = export_csv(unit.session, unit.now, domain, site_code=site_code)
    rows = max(len(text.splitlines()) - 1, 0)
    audit_download(unit, f"sdtm-{domain.lower()}", site=site_code or "all", rows=rows)
    name = f"{domain.lower()}{'-' + site_code if site_code else ''}.csv"
    return file_response(text, name, "text/csv; charset=utf-8")


@router.get("/exports/preparation.csv")
def preparation_download(
    request: Request, unit: UnitDep, site: str = "", start: str = "", end: str = ""
) -> Response:
    site_code = _site(unit, site)
    result = preparation_list(
        unit.session,
        unit.now,
        site_code=site_code,
        start=parse_optional_date("from", start or None),
        end=parse_optional_date("to", end or None),
        holidays=request.app.state.settings.site_holidays,
    )
    audit_download(
        unit,
        "preparation-list",
        site=site_code or "all",
        start=result.start,
        end=result.end,
        rows=len(result.rows),
    )
    name = f"preparation-{result.start}-{result.end}.csv"
    return file_response(preparation_csv(result), name, "text/csv; charset=utf-8")


@router.get("/exports/fhir/{code}.json")
def fhir_download(unit: UnitDep, code: SubjectCode) -> Response:
    subject = get_subject(unit.session, code)
    text = subject_bundle_json(unit.session, code, unit.now)
    audit_download(unit, "fhir-bundle", subject_id=subject.id, subject=code)
    return file_response(text + "\n", f"{code}-fhir.json", "application/fhir+json")


@router.get("/exports/fhir")
def fhir_by_form(unit: UnitDep, subject: str = "") -> Response:
    """The page's form sends the code as a query parameter."""
    if not subject.strip():
        raise InputError("subject", "type the subject's code")
    return fhir_download(unit, subject.strip())
