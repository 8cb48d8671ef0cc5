"""The patient's pages (no staff login: the secret link is the key) and the staff page that
hands the link out and reviews what patients reported.

Patient side, each answer with ``PATIENT_HEADERS`` (no script, no caching, no referrer):
- ``GET /p/{token}``: today's doses, the home blood pressure when asked, the next appointment,
  the team's phone number; ``POST /p/{token}/dose`` and ``/p/{token}/reading`` report;
- ``GET /tap/{signed}``: the dose a reminder's one-tap link is for, with one button;
  ``POST /tap/{signed}`` reports it taken now. A GET never reports: message apps open links to
  preview them;
- 404 for an unknown link, 410 for a withdrawn or expired one, 429 past the per-token throttle;
  each checked in that order after the throttle, in the subject's language when known.

Staff side: ``/subjects/{code}/patient-page`` (nurses and investigators change it; audited).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from scheduler.core.wording import N_
from scheduler.db import reading, transaction
from scheduler.errors import InputError, NotFound
from scheduler.i18n import LANGUAGES, wording
from scheduler.kernel.subject_state import SubjectState, get_subject, subject_state
from scheduler.kernel.unit import Unit, unit_of_work
from scheduler.models import PatientLink, Subject
from scheduler.patients.links import (
    LinkGone,
    find_link,
    hash_token,
    issue_link,
    link_status,
    live_link,
    patient_actor,
    resolve_link,
    revoke_link,
    set_unreported_alert,
)
from scheduler.patients.one_tap import TAP_PATH, read_tap
from scheduler.patients.reports import (
    DOSE,
    Reported,
    ReportRefused,
    dose_slot,
    report_blood_pressure,
    report_dose,
    reported_time,
    reports_of,
)
from scheduler.patients.reviews import Correction, review_report
from scheduler.patients.throttle import request_wait
from scheduler.patients.view import panel, patient_page
from scheduler.web.confirmation import confirmation_page, require_confirmation
from scheduler.web.deps import CurrentStaff, NurseStaff, SubjectCode, request_unit
from scheduler.web.page_language import page_language, request_wording
from scheduler.web.public_url import feed_settings, is_loopback
from scheduler.web.qr import qr_svg
from scheduler.web.rendering import TEMPLATES
from scheduler.web.security_headers import PATIENT_HEADERS

router = APIRouter(include_in_schema=False)


def _language(request: Request) -> str:
    """For an answer that names no subject (an unknown link): the browser's first language we
    have a catalogue for (by its primary subtag: ``zh-Hans-CN`` is ``zh_CN``), else English."""
    for part in request.headers.get("accept-language", "").split(","):
        primary = part.split(";")[0].strip().lower().replace("-", "_").split("_")[0]
        for language in LANGUAGES:
            if primary and primary == language.lower().split("_")[0]:
                return language
    return "en"


def _render(
    request: Request, template: str, language: str, context: dict[str, Any], status: int = 200
) -> Response:
    response = TEMPLATES.TemplateResponse(
        request, template, {**page_language(language), **context}, status_code=status
    )
    response.headers.update(PATIENT_HEADERS)
    return response


def _gone(request: Request, status: int, language: str, *, expired: bool = False) -> Response:
    return _render(
        request, "patient_gone.html", language, {"status": status, "expired": expired}, status
    )


def _throttled(request: Request, key: str) -> Response | None:
    state = request.app.state
    with transaction(state.engine) as session:
        wait = request_wait(session, key, state.clock.now(), state.settings)
    if not wait:
        return None
    response = _gone(request, 429, _language(request))
    response.headers["Retry-After"] = str(wait)
    return response


def _subject_state(session: Session, subject_id: int, now: datetime) -> SubjectState:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound("token", "no such page")
    return subject_state(session, subject.code, now)


def _link_language(request: Request, token: str) -> tuple[PatientLink | None, str, int]:
    """The link, the language to answer in, and the status when the link is not usable."""
    with reading(request.app.state.engine) as session:
        link = find_link(session, token)
        subject = session.get(Subject, link.subject_id) if link is not None else None
    if link is None or subject is None:
        return None, _language(request), 404
    if link.revoked_at is not None:
        return None, subject.language, 410
    return link, subject.language, 200


def _page(
    request: Request,
    token: str,
    message: str = "",
    *,
    refused: bool = False,
    status: int = 200,
) -> Response:
    app = request.app.state
    with reading(app.engine) as session:
        link = resolve_link(session, token)
        now = app.clock.now()
        state = _subject_state(session, link.subject_id, now)
        page = patient_page(session, state, app.settings)
        now_time = now.astimezone(state.anchors.time_zone).strftime("%H:%M")
    return _render(
        request,
        "patient.html",
        page.language,
        {
            "page": page,
            "base": f"/p/{token}",
            "message": message,
            "refused": refused,
            "now_time": now_time,
        },
        status,
    )


def _patient_answer(
    request: Request, token: str, change: Callable[[Unit, SubjectState, PatientLink], Reported]
) -> Response:
    blocked = _throttled(request, hash_token(token))
    if blocked is not None:
        return blocked
    link, language, status = _link_language(request, token)
    if link is None:
        return _gone(request, status, language)
    app = request.app.state
    words = wording(language)
    try:
        with unit_of_work(app.engine, patient_actor(link), app.clock, app.settings) as unit:
            current = resolve_link(unit.session, token)
            state = _subject_state(unit.session, current.subject_id, unit.now)
            done = change(unit, state, current)
    except ReportRefused as refusal:
        return _page(request, token, refusal.worded(words), refused=True, status=422)
    except LinkGone:
        return _gone(request, 410, language)
    return _page(request, token, done.worded(words))


@router.get("/p/{token}", response_class=HTMLResponse)
def patient_page_view(request: Request, token: str) -> Response:
    blocked = _throttled(request, hash_token(token))
    if blocked is not None:
        return blocked
    link, language, status = _link_language(request, token)
    if link is None:
        return _gone(request, status, language)
    return _page(request, token)


@router.post("/p/{token}/dose", response_class=HTMLResponse)
def patient_dose(
    request: Request,
    token: str,
    taken: Annotated[str, Form()] = "",
    slot: Annotated[int, Form(ge=1, le=24)] = 1,
    at: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    def change(unit: Unit, state: SubjectState, link: PatientLink) -> Reported:
        was_taken = taken == "yes"
        when = reported_time(at) if was_taken else None
        return report_dose(unit, state, link, on=state.today, slot=slot, taken=was_taken, at=when)

    return _patient_answer(request, token, change)


@router.post("/p/{token}/reading", response_class=HTMLResponse)
def patient_reading(
    request: Request,
    token: str,
    systolic: Annotated[int, Form(ge=0, le=1000)],
    diastolic: Annotated[int, Form(ge=0, le=1000)],
) -> Response:
    def change(unit: Unit, state: SubjectState, link: PatientLink) -> Reported:
        return report_blood_pressure(
            unit, state, link, on=state.today, systolic=systolic, diastolic=diastolic
        )

    return _patient_answer(request, token, change)


def _tap(request: Request, signed: str, *, record: bool) -> Response:
    blocked = _throttled(request, hash_token(signed))
    if blocked is not None:
        return blocked
    app = request.app.state
    now = app.clock.now()
    language = _language(request)
    try:
        claim = read_tap(app.settings, signed)
    except NotFound:
        return _gone(request, 404, language)
    with unit_of_work(app.engine, "patient link", app.clock, app.settings) as unit:
        subject = unit.session.get(Subject, claim.subject_id)
        link = live_link(unit.session, claim.subject_id) if subject is not None else None
        if subject is None or link is None:
            return _gone(request, 410, subject.language if subject else language)
        language, words = subject.language, wording(subject.language)
        if claim.expired(now):
            return _gone(request, 410, language, expired=True)
        unit.actor = patient_actor(link)
        state = subject_state(unit.session, subject.code, unit.now)
        slot = next((s for s in state.plan().doses() if s.key == claim.slot_key), None)
        context: dict[str, Any] = {"phone": state.site.phone or app.settings.clinic_phone}
        try:
            if slot is None:
                raise NotFound("token", "no such dose")
            dose_slot(state, slot.date, slot.slot)
            earlier = [
                r
                for r in reports_of(unit.session, state.subject.id or 0)
                if r.kind == DOSE and (r.report_date, r.slot) == (slot.date, slot.slot)
            ]
            if earlier:
                context["message"] = Reported(earlier[0], duplicate=True).worded(words)
            elif record:
                done = report_dose(
                    unit,
                    state,
                    link,
                    on=slot.date,
                    slot=slot.slot,
                    taken=True,
                    at=None,
                    via="one_tap",
                )
                context["message"] = done.worded(words)
            else:
                context |= {
                    "ask": True,
                    "dose_date": slot.date,
                    "dose_time": slot.time,
                    "action": f"{TAP_PATH}{signed}",
                }
        except ReportRefused as refusal:
            context |= {"message": refusal.worded(words), "refused": True}
        except NotFound:
            return _gone(request, 404, language)
    return _render(
        request, "patient_tap.html", language, context, 422 if context.get("refused") else 200
    )


@router.get("/tap/{signed}", response_class=HTMLResponse)
def tap_page(request: Request, signed: str) -> Response:
    return _tap(request, signed, record=False)


@router.post("/tap/{signed}", response_class=HTMLResponse)
def tap_taken(request: Request, signed: str) -> Response:
    return _tap(request, signed, record=True)


# -- staff ------------------------------------------------------------------------------------


def _staff_page(
    request: Request,
    staff: CurrentStaff,
    code: str,
    *,
    issued_url: str | None = None,
    issued_token: str = "",
    error: InputError | None = None,
    notice: str = "",
) -> Response:
    with request_unit(request, staff.name) as unit:
        state = subject_state(unit.session, code, unit.now)
        shown = panel(unit.session, state, link_status(unit.session, code))
    response = TEMPLATES.TemplateResponse(
        request,
        "patient_page_staff.html",
        {
            "staff": staff,
            "subject": state.subject,
            "patient": shown,
            "issued_url": issued_url,
            "issued_token": issued_token,
            "qr": qr_svg(issued_url) if issued_url else None,
            "loopback": issued_url is not None and is_loopback(issued_url),
            "can_record": staff.role in ("nurse", "investigator"),
            "error": error,
            "notice": notice,
        },
        status_code=error.http_status if error else 200,
    )
    if issued_url:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/subjects/{code}/patient-page", response_class=HTMLResponse)
def staff_patient_page(request: Request, code: SubjectCode, staff: CurrentStaff) -> Response:
    """The subject's private page link and what the patient reported, beside the verified
    records, with the review forms."""
    return _staff_page(request, staff, code, notice=request.query_params.get("done", "")[:64])


@router.post("/subjects/{code}/patient-page", response_class=HTMLResponse)
def issue_patient_link(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    alert_unreported: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """A new private link, shown once with its QR code. While a link is live, the new one
    replaces it, and the patient holding it loses their page: that takes the confirmation
    page's reason and tick (``_REISSUE``), checked in the unit that issues, so a link issued
    meanwhile by someone else is not replaced unconfirmed. A post without them (the staff
    page's button of an older page) gets the confirmation page, and nothing changes."""
    try:
        with request_unit(request, staff.name) as unit:
            subject = get_subject(unit.session, code)
            if live_link(unit.session, subject.id or 0) is not None:
                reason = require_confirmation(reason, confirm)
            issued = issue_link(
                unit,
                feed_settings(request),
                code,
                alert_unreported=True if alert_unreported == "yes" else None,
                reason=reason,
            )
    except InputError as exc:
        if exc.field not in ("reason", "confirm"):
            raise
        return _confirm(request, _REISSUE, code, reason, exc if reason or confirm else None)
    return _staff_page(request, staff, code, issued_url=issued.url, issued_token=issued.token)


@dataclass(frozen=True)
class _LinkChange:
    """What a confirmation page for a change to the live link says (messages, translated as
    the page is drawn) and where it posts."""

    title: str
    changes: tuple[str, ...]
    action: str
    confirm_label: str
    button: str


_REISSUE = _LinkChange(
    title=N_("Issue a new private page link for {code}"),
    changes=(
        N_(
            "The private page link handed out before stops working at once (it answers that "
            "the link no longer works), and so do the one-tap links of the patient's dose "
            "reminders."
        ),
        N_("The new link is shown once, with its QR code, to hand to the patient."),
    ),
    action="/subjects/{code}/patient-page",
    confirm_label=N_("I confirm that the link handed out before stops working now"),
    button=N_("Issue the new link"),
)
_WITHDRAWAL = _LinkChange(
    title=N_("Withdraw the private page link of {code}"),
    changes=(
        N_(
            "The patient's private page stops working at once (it answers that the link no "
            "longer works), and so do the one-tap links of their dose reminders."
        ),
        N_("The link cannot be brought back; a new link can be issued and handed out again."),
    ),
    action="/subjects/{code}/patient-page/revoke",
    confirm_label=N_("I confirm that the private page link is withdrawn now"),
    button=N_("Withdraw the link"),
)


def _confirm(
    request: Request,
    change: _LinkChange,
    code: str,
    reason: str,
    error: InputError | None = None,
) -> Response:
    _ = request_wording(request).gettext
    return confirmation_page(
        request,
        title=_(change.title).format(code=code),
        changes=[_(line) for line in change.changes],
        action=change.action.format(code=code),
        hidden={},
        confirm_label=_(change.confirm_label),
        button=_(change.button),
        cancel=f"/subjects/{code}/patient-page",
        reason=reason,
        error=error,
    )


def _preview(request: Request, staff_name: str, code: str, change: _LinkChange) -> Response:
    with request_unit(request, staff_name) as unit:
        subject_state(unit.session, code, unit.now)  # another site's subject is a 404
    return _confirm(request, change, code, "")


@router.get("/subjects/{code}/patient-page/reissue-preview", response_class=HTMLResponse)
def reissue_preview(request: Request, code: SubjectCode, staff: NurseStaff) -> Response:
    return _preview(request, staff.name, code, _REISSUE)


@router.get("/subjects/{code}/patient-page/revoke-preview", response_class=HTMLResponse)
def revoke_preview(request: Request, code: SubjectCode, staff: NurseStaff) -> Response:
    return _preview(request, staff.name, code, _WITHDRAWAL)


@router.post("/subjects/{code}/patient-page/revoke", response_class=HTMLResponse)
def revoke_patient_link(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Withdraws the link confirmed on the preview page, with its reason."""
    with request_unit(request, staff.name) as unit:
        get_subject(unit.session, code)  # another site's subject is a 404, before the form
    try:
        checked = require_confirmation(reason, confirm)
        with request_unit(request, staff.name) as unit:
            revoke_link(unit, code, reason=checked)
    except InputError as exc:
        if exc.field not in ("reason", "confirm"):
            raise
        return _confirm(request, _WITHDRAWAL, code, reason, exc)
    return RedirectResponse(f"/subjects/{code}/patient-page?done=revoked", status_code=303)


@router.post("/subjects/{code}/patient-page/alert", response_class=HTMLResponse)
def unreported_alert(
    request: Request, code: SubjectCode, staff: NurseStaff, on: Annotated[str, Form()] = ""
) -> Response:
    """Opt the subject in (or out) of the worklist line for a dosing day left unreported."""
    try:
        with request_unit(request, staff.name) as unit:
            set_unreported_alert(unit, code, on=on == "yes")
    except InputError as exc:
        return _staff_page(request, staff, code, error=exc)
    return RedirectResponse(f"/subjects/{code}/patient-page?done=alert", status_code=303)


@router.post("/subjects/{code}/patient-reports/{report_id}", response_class=HTMLResponse)
def review_patient_report(
    request: Request,
    code: SubjectCode,
    report_id: int,
    staff: NurseStaff,
    outcome: Annotated[str, Form()] = "confirm",
    taken: Annotated[str, Form()] = "",
    at: Annotated[str, Form()] = "",
    reading_value: Annotated[str, Form(alias="reading")] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Confirm a report (it becomes the verified record) or correct it, with a reason."""
    correction = None
    if outcome == "correct":
        correction = Correction(
            taken={"yes": True, "no": False}.get(taken), at=at or None, reading=reading_value
        )
    try:
        with request_unit(request, staff.name) as unit:
            review_report(unit, code, report_id, correction=correction, reason=reason)
    except InputError as exc:
        return _staff_page(request, staff, code, error=exc)
    return RedirectResponse(f"/subjects/{code}/patient-page?done=reviewed", status_code=303)
