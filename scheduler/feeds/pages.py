"""The staff pages that hand feeds out: the feed link page, its issue and withdrawal forms,
and the printed patient handout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from scheduler.core import Plan
from scheduler.core.cycles import CyclePlan
from scheduler.core.dosing_days import DoseSlot
from scheduler.core.plan import STOPPED, format_dose
from scheduler.core.wording import N_, Wording
from scheduler.errors import InputError
from scheduler.feeds.tokens import (
    PATIENT,
    IssuedToken,
    feed_urls,
    issue_feed,
    live_patient_token,
    revoke_feed,
    token_status,
)
from scheduler.i18n import wording
from scheduler.kernel.subject_state import get_subject, subject_state
from scheduler.patients.links import find_link
from scheduler.patients.links import page_url as patient_page_url
from scheduler.pharmacy.accountability import awaiting_new_capsules, load_records
from scheduler.protocols.schema import VisitText
from scheduler.web.confirmation import confirmation_page, require_confirmation
from scheduler.web.deps import CurrentStaff, NurseStaff, request_unit
from scheduler.web.page_language import page_language, request_wording
from scheduler.web.public_url import feed_settings, is_loopback
from scheduler.web.qr import qr_svg
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)


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
            "loopback": issued is not None and is_loopback(issued.webcal),
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
        issued = issue_feed(unit, feed_settings(request), PATIENT, code, reason=reason)
    response = _feed_page(request, staff, code, issued)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


_WITHDRAWAL = [
    N_(
        "The patient's calendar link stops working at once: calendars subscribed to it stop "
        "updating and keep only what they last fetched."
    ),
    N_("The link cannot be brought back; a new link can be issued and handed out again."),
]


def _withdrawal_page(
    request: Request, code: str, reason: str, error: InputError | None = None
) -> Response:
    _ = request_wording(request).gettext
    return confirmation_page(
        request,
        title=_("Withdraw the calendar link of {code}").format(code=code),
        changes=[_(line) for line in _WITHDRAWAL],
        action=f"/subjects/{code}/feed/revoke",
        hidden={},
        confirm_label=_("I confirm that the calendar link is withdrawn now"),
        button=_("Withdraw the link"),
        cancel=f"/subjects/{code}/feed",
        reason=reason,
        error=error,
    )


@router.get("/subjects/{code}/feed/revoke-preview", response_class=HTMLResponse)
def revoke_feed_preview(
    request: Request, code: str, staff: NurseStaff, reason: str = ""
) -> Response:
    """What withdrawing the link does, with a reason and a confirmation to give."""
    with request_unit(request, staff.name) as unit:
        get_subject(unit.session, code)
    return _withdrawal_page(request, code, reason)


@router.post("/subjects/{code}/feed/revoke", response_class=HTMLResponse)
def revoke_feed_form(
    request: Request,
    code: str,
    staff: NurseStaff,
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Withdraws the link confirmed on the preview page, with its reason: never in one click."""
    with request_unit(request, staff.name) as unit:
        get_subject(unit.session, code)
    try:
        checked = require_confirmation(reason, confirm)
        with request_unit(request, staff.name) as unit:
            revoke_feed(unit, PATIENT, code, reason=checked)
    except InputError as exc:
        if exc.field not in ("reason", "confirm"):
            raise
        return _withdrawal_page(request, code, reason, exc)
    return _feed_page(request, staff, code, None)


def _diary_cycles(plan: Plan) -> list[tuple[CyclePlan, list[DoseSlot]]]:
    """The cycles the printed diary covers, each with its doses still to take: the rest of the
    cycle running today and the next one, so a patient printed a handout mid-cycle has a line
    for every dose until the following dispensing visit."""
    running = next(
        (c for c in plan.cycles if c.day1 <= plan.today <= c.end and c.status == "in_progress"),
        None,
    )
    upcoming = next(
        (
            c
            for c in plan.cycles
            if c.day1 > plan.today and c.status not in ("cancelled", "stopped")
        ),
        None,
    )
    diary = []
    for cycle in (running, upcoming):
        if cycle is not None:
            slots = [s for s in cycle.doses if s.status == "planned" and s.date >= plan.today]
            if slots:
                diary.append((cycle, slots))
    return diary


def _day_labels(plan: Plan, words: Wording) -> dict[int, str]:
    """ "Day 8 of 14" for each dosing day of a cycle: the patient's count of the days they take
    the drug, not the cycle's day number (they differ when dosing days are not consecutive)."""
    days = plan.protocol.schedule.dosing_days
    label = words.gettext("Day {number} of {total}")
    return {day: label.format(number=n, total=len(days)) for n, day in enumerate(days, start=1)}


_UNITS = {"capsule": N_("capsules"), "tablet": N_("tablets")}
_OTHER_UNITS = N_("your study medicine")
"""What the patient holds, in the plural the handout's sentences use."""


def _handout(
    request: Request,
    staff: CurrentStaff,
    code: str,
    url: str | None,
    page_url: str | None = None,
) -> Response:
    settings = request.app.state.settings
    with request_unit(request, staff.name) as unit:
        state = subject_state(unit.session, code, unit.now)
        records = load_records(unit.session, [state.subject.id or 0])[state.subject.id or 0]
    plan = state.plan()
    paused = plan.status == "on_hold" or plan.waiting_for_criteria() is not None
    stopped = plan.status in STOPPED or plan.status == "completed"
    # Never a dose to take while paused or after the treatment ended: no diary, no dose time.
    diary = [] if paused or stopped else _diary_cycles(plan)
    # A dose changed mid-cycle whose new capsules are not dispensed: the patient must collect
    # them before the first dose at the new strength.
    changes = [c for c in awaiting_new_capsules(plan, records) if c.dose_dates[-1] >= plan.today]
    visits = [
        v for v in plan.visits if v.window_end >= plan.today and v.status in ("planned", "due")
    ]
    language = state.subject.language
    words = wording(language)
    texts = [plan.protocol.visit_text(v.code, language) for v in visits[:6]]
    response = TEMPLATES.TemplateResponse(
        request,
        "handout.html",
        {
            **page_language(language),
            "subject": state.subject,
            "protocol": plan.protocol,
            "title": plan.protocol.title_in(language),
            "site": state.site,
            "paused": paused,
            "stopped": stopped,
            "diary": diary,
            "day_labels": _day_labels(plan, words),
            "units": words.gettext(_UNITS.get(plan.protocol.drug.form.lower(), _OTHER_UNITS)),
            "per_day": plan.protocol.schedule.administrations_per_day,
            "dose_label": format_dose,
            "dose_time": words.time(state.subject.dose_time),
            "zone": state.subject.time_zone,
            "visits": [
                (visit, text or VisitText(name=visit.name, bring=visit.bring))
                for visit, text in zip(visits[:6], texts, strict=True)
            ],
            "changes": changes,
            "collect": {d for c in changes for d in c.dose_dates},
            "phone": state.site.phone or settings.clinic_phone,
            "qr": qr_svg(url) if url else None,
            "page_qr": qr_svg(page_url) if page_url else None,
            "loopback": any(u is not None and is_loopback(u) for u in (url, page_url)),
        },
    )
    if url or page_url:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/subjects/{code}/handout", response_class=HTMLResponse)
def handout_page(request: Request, code: str, staff: CurrentStaff) -> Response:
    """The one-page patient handout, without a QR code until a link is issued for it."""
    return _handout(request, staff, code, None)


@router.post("/subjects/{code}/handout", response_class=HTMLResponse)
def handout_with_link(
    request: Request,
    code: str,
    staff: NurseStaff,
    token: Annotated[str, Form()] = "",
    page_token: Annotated[str, Form()] = "",
) -> Response:
    """The handout with the feed's QR code: the link just shown on the feed page (its token is
    posted back and checked against the stored hash), or else a newly issued one. With
    ``page_token`` (the private page link just issued, ``scheduler.patients``), the handout
    carries that link's QR code instead, and the calendar link is left as it is."""
    settings = feed_settings(request)
    url = page_url = None
    with request_unit(request, staff.name) as unit:
        if page_token:
            link = find_link(unit.session, page_token)
            subject = get_subject(unit.session, code)
            if link is None or link.revoked_at is not None or link.subject_id != subject.id:
                raise InputError("page_token", "that private page link is not live; issue one")
            page_url = patient_page_url(settings, page_token)
        elif token and live_patient_token(unit.session, code, token):
            url = feed_urls(settings, token)[1]
        else:
            url = issue_feed(unit, settings, PATIENT, code, reason="handout").webcal
    return _handout(request, staff, code, url, page_url)
