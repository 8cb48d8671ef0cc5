"""The pharmacy pages: the printable preparation list (the same rows as ``dosing pharmacy``) and
each subject's drug accountability, with the forms a pharmacist records from them: prepared,
relabelled or returned to stock, dispensed with lot and expiry, capsules counted back,
discrepancies reviewed. Every form calls the service function the CLI calls, in one unit of work;
a refused value re-renders the page the form was on with the reason next to the field, and
nothing is stored. Every role reads the pages; only the pharmacist sees the forms, and the server
refuses anyone else's post.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.core.wording import N_
from scheduler.errors import InputError, NotFound
from scheduler.kernel.actors import PHARMACY_ACTIONS
from scheduler.kernel.sites import visible_sites
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import parse_date, parse_optional_date
from scheduler.pharmacy.accountability import (
    dispense,
    mark_not_needed,
    prepare,
    record_return,
    return_to_stock,
    review,
)
from scheduler.pharmacy.forms import Filters, Origin, PostedFrom, Text
from scheduler.pharmacy.preparation_list import (
    DISPENSED,
    PLAN_CHANGED,
    PREPARED,
    TO_PREPARE,
    PreparationList,
    preparation_list,
)
from scheduler.pharmacy.views import row_views, subject_account
from scheduler.staff.accounts import Staff
from scheduler.web.deps import (
    CurrentStaff,
    PharmacistStaff,
    SubjectCode,
    request_unit,
)
from scheduler.web.error_pages import problem_page
from scheduler.web.forms import milligrams, whole
from scheduler.web.page_language import request_wording
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)

"""Prepare, relabel, return to stock, dispense, count returns, review discrepancies."""

STATUSES = {
    "to_prepare": TO_PREPARE,
    "prepared": PREPARED,
    "plan_changed": PLAN_CHANGED,
    "dispensed": DISPENSED,
}
"""The row statuses the list's forms depend on, by the names the template uses."""
PAGE_ROWS = 100
"""Rows the list page shows, soonest prepare-by first; it says how many more there are (the CSV
and ``dosing pharmacy`` have them all). Thousands of rows with their forms took seconds to
render and are more than anyone reads on one page."""
NOTICES = {
    "prepare": N_("{subject} cycle {cycle}: marked prepared."),
    "restock": N_("{subject} cycle {cycle}: returned to stock."),
    "dispense": N_("{subject} cycle {cycle}: dispensing recorded."),
    "return": N_("{subject} cycle {cycle}: returned capsules counted."),
    "review": N_("{subject} cycle {cycle}: discrepancy reviewed."),
    "not_needed": N_("{subject} cycle {cycle}: marked not needed."),
}


@dataclass(frozen=True)
class Refusal:
    """A value a service refused, shown on the form it came from: next to the field when the
    form shows that field, else at the top of the form with the field named."""

    form: str
    field: str
    reason: str


def _refusal(form: str, exc: InputError) -> Refusal:
    # The services speak the CLI's language ("give --reason"); the forms have a Reason field.
    return Refusal(form, exc.field, exc.reason.replace("--reason", "a reason"))


def _notice(request: Request) -> str:
    query = request.query_params
    done = NOTICES.get(query.get("done", ""))
    if done is None:
        return ""
    wording = request_wording(request)
    return wording.gettext(done).format(
        subject=query.get("subject", ""), cycle=query.get("cycle", "")
    )


def _list_page(
    request: Request,
    staff: Staff,
    filters: Filters,
    *,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The preparation list; a filter the service cannot read is said next to that filter
    (the list is then not shown, rather than a list for some other range)."""
    listing: PreparationList | None = None
    with request_unit(request, staff.name) as unit:
        sites = visible_sites(unit.session)
        try:
            listing = preparation_list(
                unit.session,
                unit.now,
                site_code=filters.site or None,
                start=parse_optional_date("from", filters.start),
                end=parse_optional_date("to", filters.end),
                holidays=request.app.state.settings.site_holidays,
                limit=PAGE_ROWS,
            )
        except InputError as exc:
            refusal, status = _refusal("filter", exc), exc.http_status
        views = row_views(unit.session, unit.now, listing.rows) if listing else []
    context: dict[str, Any] = {
        "staff": staff,
        "listing": listing,
        "views": views,
        "sites": sites,
        "filters": filters,
        "statuses": STATUSES,
        "can_record": staff.role in PHARMACY_ACTIONS,
        "error": refusal,
        "values": values or {},
        "notice": _notice(request),
    }
    return TEMPLATES.TemplateResponse(request, "pharmacy.html", context, status_code=status)


def _subject_page(
    request: Request,
    staff: Staff,
    code: str,
    *,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            account = subject_account(unit.session, code, unit.now)
    except NotFound as exc:
        if exc.field != "subject":
            raise
        return problem_page(request, N_("No such subject"), exc.reason, exc.http_status)
    context: dict[str, Any] = {
        "staff": staff,
        "account": account,
        "filters": None,
        "can_record": staff.role in PHARMACY_ACTIONS,
        "error": refusal,
        "values": values or {},
        "notice": _notice(request),
    }
    return TEMPLATES.TemplateResponse(request, "pharmacy_subject.html", context, status_code=status)


def _submit(
    request: Request,
    staff: Staff,
    code: str,
    origin: Origin,
    values: dict[str, str],
    change: Callable[[Unit], object],
    done: str,
) -> Response:
    """Store one change, all of it or (on any error) nothing, then go back to the page the
    form was on: with a notice, or showing the refusal next to the field."""
    try:
        with request_unit(request, staff.name) as unit:
            change(unit)
    except InputError as exc:
        refusal, status = _refusal(origin.form, exc), exc.http_status
        if origin.filters is None:
            return _subject_page(
                request, staff, code, refusal=refusal, values=values, status=status
            )
        return _list_page(
            request, staff, origin.filters, refusal=refusal, values=values, status=status
        )
    said = {"done": done, "subject": code, "cycle": values["cycle"].strip()}
    if origin.filters is None:
        return RedirectResponse(f"/pharmacy/subjects/{code}?{urlencode(said)}", status_code=303)
    return RedirectResponse(origin.filters.url(**said), status_code=303)


@router.get("/pharmacy", response_class=HTMLResponse)
def pharmacy_page(
    request: Request,
    staff: CurrentStaff,
    site: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Response:
    """What to prepare, for whom, at which strength, by when (default: the next 7 days)."""
    return _list_page(request, staff, Filters(site or "", start or "", end or ""))


@router.get("/pharmacy/subjects/{code}", response_class=HTMLResponse)
def subject_accountability_page(
    request: Request, code: SubjectCode, staff: CurrentStaff
) -> Response:
    """Prepared, dispensed and returned per cycle and strength, the reconciliation against the
    doses recorded taken, and relative dose intensity."""
    return _subject_page(request, staff, code)


@router.post("/pharmacy/subjects/{code}/preparations")
def prepare_form(
    request: Request,
    code: SubjectCode,
    staff: PharmacistStaff,
    origin: PostedFrom,
    cycle: Text = "",
    reason: Text = "",
) -> Response:
    """Mark prepared as the plan stands; again, with a reason, to relabel after a change."""
    return _submit(
        request,
        staff,
        code,
        origin,
        {"cycle": cycle, "reason": reason},
        lambda unit: prepare(unit, code, cycle=whole("cycle", cycle), reason=reason),
        "prepare",
    )


@router.post("/pharmacy/subjects/{code}/restock")
def restock_form(
    request: Request,
    code: SubjectCode,
    staff: PharmacistStaff,
    origin: PostedFrom,
    cycle: Text = "",
    reason: Text = "",
) -> Response:
    return _submit(
        request,
        staff,
        code,
        origin,
        {"cycle": cycle, "reason": reason},
        lambda unit: return_to_stock(unit, code, cycle=whole("cycle", cycle), reason=reason),
        "restock",
    )


@router.post("/pharmacy/subjects/{code}/not-needed")
def not_needed_form(
    request: Request,
    code: SubjectCode,
    staff: PharmacistStaff,
    origin: PostedFrom,
    cycle: Text = "",
    reason: Text = "",
) -> Response:
    """Capsules that were due will not be dispensed, and why: the overdue row leaves the list."""
    return _submit(
        request,
        staff,
        code,
        origin,
        {"cycle": cycle, "reason": reason},
        lambda unit: mark_not_needed(unit, code, cycle=whole("cycle", cycle), reason=reason),
        "not_needed",
    )


@router.post("/pharmacy/subjects/{code}/dispensings")
def dispense_form(
    request: Request,
    code: SubjectCode,
    staff: PharmacistStaff,
    origin: PostedFrom,
    cycle: Text = "",
    date: Text = "",
    strength: Text = "",
    count: Text = "",
    lot: Text = "",
    expiry: Text = "",
    reason: Text = "",
) -> Response:
    values = {
        "cycle": cycle,
        "date": date,
        "strength": strength,
        "count": count,
        "lot": lot,
        "expiry": expiry,
        "reason": reason,
    }
    return _submit(
        request,
        staff,
        code,
        origin,
        values,
        lambda unit: dispense(
            unit,
            code,
            cycle=whole("cycle", cycle),
            on=parse_date("date", date),
            strength=milligrams("strength", strength),
            count=whole("count", count),
            lot=lot,
            expiry=parse_date("expiry", expiry),
            reason=reason,
        ),
        "dispense",
    )


@router.post("/pharmacy/subjects/{code}/returns")
def return_form(
    request: Request,
    code: SubjectCode,
    staff: PharmacistStaff,
    origin: PostedFrom,
    cycle: Text = "",
    date: Text = "",
    strength: Text = "",
    count: Text = "",
    reason: Text = "",
) -> Response:
    """Capsules the subject brought back from a cycle."""
    values = {"cycle": cycle, "date": date, "strength": strength, "count": count, "reason": reason}
    return _submit(
        request,
        staff,
        code,
        origin,
        values,
        lambda unit: record_return(
            unit,
            code,
            cycle=whole("cycle", cycle),
            on=parse_date("date", date),
            strength=milligrams("strength", strength),
            count=whole("count", count),
            reason=reason,
        ),
        "return",
    )


@router.post("/pharmacy/subjects/{code}/reviews")
def review_form(
    request: Request,
    code: SubjectCode,
    staff: PharmacistStaff,
    origin: PostedFrom,
    cycle: Text = "",
    note: Text = "",
) -> Response:
    """What explains a cycle's capsule discrepancy; it clears the flag."""
    return _submit(
        request,
        staff,
        code,
        origin,
        {"cycle": cycle, "note": note},
        lambda unit: review(unit, code, cycle=whole("cycle", cycle), note=note),
        "review",
    )
