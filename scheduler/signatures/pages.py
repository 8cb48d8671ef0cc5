"""The signing page: the decision as it will be signed (its meaning, and the one sentence that
says when it departs from the protocol's proposal), then the investigator's password. At the
first signing of a login session the user name is asked for too (both components, 21 CFR
11.200(a)(1)); after that within the session the password alone.

The page carries the digest of the record it showed; a record that no longer matches it is
refused as a stale preview. A wrong password is refused (401), audited and counted toward the
lockout; nothing else is stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.core.wording import N_
from scheduler.errors import InputError, NotFound
from scheduler.kernel.unit import unit_of_work
from scheduler.signatures.records import SignableRecord, parse_record_id, signable_record
from scheduler.signatures.services import (
    SignatureRefused,
    has_signed_since,
    record_failed_signature,
    sign,
)
from scheduler.staff.accounts import Staff, session_started_at
from scheduler.web.deps import SESSION_COOKIE, InvestigatorStaff, request_unit
from scheduler.web.error_pages import problem_page
from scheduler.web.rendering import TEMPLATES

router = APIRouter()
Text = Annotated[str, Form()]


def _needs_user_name(request: Request, staff: Staff) -> bool:
    token = request.cookies.get(SESSION_COOKIE, "")
    with request_unit(request, staff.name) as unit:
        started = session_started_at(unit.session, token) if token else None
        return started is None or not has_signed_since(unit.session, staff.name, started)


def _page(
    request: Request,
    staff: Staff,
    record: SignableRecord,
    *,
    refused: InputError | None = None,
    reason: str = "",
) -> Response:
    context = {
        "staff": staff,
        "record": record,
        "ask_user_name": _needs_user_name(request, staff),
        "error": refused,
        "reason": reason,
    }
    status = 200 if refused is None else refused.http_status
    return TEMPLATES.TemplateResponse(request, "sign.html", context, status_code=status)


def _record(request: Request, staff: Staff, label: str) -> SignableRecord:
    kind, record_id = parse_record_id(label)
    with request_unit(request, staff.name) as unit:
        return signable_record(unit.session, kind, record_id)


@router.get("/signatures/{label}", response_class=HTMLResponse)
def sign_page(request: Request, label: str, staff: InvestigatorStaff) -> Response:
    try:
        record = _record(request, staff, label)
    except InputError as exc:
        return problem_page(request, N_("No such record"), exc.reason, exc.http_status)
    return _page(request, staff, record)


@router.post("/signatures/{label}")
def sign_form(
    request: Request,
    label: str,
    staff: InvestigatorStaff,
    password: Text = "",
    user_name: Text = "",
    reason: Text = "",
    record_sha256: Text = "",
) -> Response:
    try:
        record = _record(request, staff, label)
    except InputError as exc:
        return problem_page(request, N_("No such record"), exc.reason, exc.http_status)
    ask_user_name = _needs_user_name(request, staff)
    address = request.client.host if request.client else None
    try:
        with request_unit(request, staff.name) as unit:
            sign(
                unit,
                record.kind,
                record.id,
                password=password,
                user_name=user_name if ask_user_name else None,
                reason=reason,
                expected_sha256=record_sha256,
                address=address,
            )
    except SignatureRefused as exc:
        state = request.app.state
        with unit_of_work(state.engine, staff.name, state.clock, state.settings) as unit:
            record_failed_signature(unit, staff.name, record.kind, record.id, address)
        return _page(request, staff, record, refused=exc, reason=reason)
    except NotFound as exc:
        return problem_page(request, N_("No such record"), exc.reason, exc.http_status)
    except InputError as exc:
        return _page(request, staff, _record(request, staff, label), refused=exc, reason=reason)
    return RedirectResponse(f"/subjects/{record.subject_code}?done=signed", status_code=303)
