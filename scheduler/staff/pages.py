"""Accounts for the admin role: list staff with their sites, languages, lockouts and API tokens;
add an account, set its sites or language, lift a lockout, deactivate it, issue and revoke API
tokens. The same service functions as ``dosing user ...``. And every account's own page, where
its owner picks the language of their pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.errors import InputError
from scheduler.i18n import LANGUAGE_NAMES
from scheduler.kernel.sites import visible_sites
from scheduler.models import ROLES
from scheduler.staff.accounts import (
    TOKEN_LIFETIME_DAYS,
    Staff,
    create_staff,
    deactivate,
    issue_api_token,
    list_staff,
    list_tokens,
    preview_deactivation,
    revoke_api_token,
    set_language,
    set_sites,
)
from scheduler.staff.throttle import unlock
from scheduler.web.confirmation import confirmation_page, require_confirmation
from scheduler.web.deps import AdminStaff, CurrentStaff, request_unit
from scheduler.web.forms import optional_whole, whole
from scheduler.web.labels import WORDS
from scheduler.web.page_language import request_wording
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
Sites = Annotated[list[str], Form()]


def _page(
    request: Request,
    staff: Staff,
    *,
    error: InputError | None = None,
    form: str = "",
    values: dict[str, Any] | None = None,
    token: str = "",
    status: int = 200,
) -> Response:
    with request_unit(request, staff.name) as unit:
        accounts = list_staff(unit.session, unit.now)
        tokens = {a.name: list_tokens(unit.session, a.name) for a in accounts}
        sites = visible_sites(unit.session)
    context: dict[str, Any] = {
        "staff": staff,
        "accounts": accounts,
        "tokens": tokens,
        "sites": sites,
        "roles": ROLES,
        "error": error,
        "form": form,
        "values": values or {},
        "token": token,
        "token_days": TOKEN_LIFETIME_DAYS,
        "languages": LANGUAGE_NAMES,
        "created": request.query_params.get("created", ""),
        "done": _done(request),
    }
    return TEMPLATES.TemplateResponse(request, "admin_staff.html", context, status_code=status)


def _done(request: Request) -> str:
    """The notice after a change, worded in the reader's language from the redirect's codes
    (``?done=sites&name=ana``), so no English sentence travels in the address."""
    _ = request_wording(request).gettext
    name = request.query_params.get("name", "")
    notices = {
        "sites": _("The sites of {name} were changed."),
        "language": _("The language of {name}'s pages was changed."),
        "unlocked": _("{name} was unlocked."),
        "revoked": _("API token {token} of {name} was revoked."),
    }
    found = notices.get(request.query_params.get("done", ""), "")
    return found.format(name=name, token=request.query_params.get("token", ""))


@router.get("/admin/staff", response_class=HTMLResponse)
def staff_page(request: Request, staff: AdminStaff) -> Response:
    return _page(request, staff)


@router.post("/admin/staff")
def add_staff(
    request: Request,
    staff: AdminStaff,
    name: Text = "",
    role: Text = "",
    password: Text = "",
    site: Sites = [],  # noqa: B006 - FastAPI copies a default; unchecked boxes send nothing
    language: Text = "en",
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            created = create_staff(
                unit, name.strip(), role=role, password=password, sites=site, language=language
            )
    except InputError as exc:
        values = {"name": name, "role": role, "sites": site, "language": language}
        return _page(request, staff, error=exc, form="add", values=values, status=exc.http_status)
    return RedirectResponse(f"/admin/staff?created={created.name}", status_code=303)


@router.post("/admin/staff/sites")
def staff_sites(
    request: Request,
    staff: AdminStaff,
    name: Text = "",
    reason: Text = "",
    site: Sites = [],  # noqa: B006 - as above
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            set_sites(unit, name, site, reason=reason)
    except InputError as exc:
        values = {"name": name, "reason": reason, "sites": site}
        return _page(request, staff, error=exc, form="sites", values=values, status=exc.http_status)
    return RedirectResponse(f"/admin/staff?done=sites&name={name}", status_code=303)


@router.post("/admin/staff/language")
def staff_language(
    request: Request, staff: AdminStaff, name: Text = "", language: Text = "", reason: Text = ""
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            set_language(unit, name, language, reason=reason)
    except InputError as exc:
        values = {"name": name, "language": language, "reason": reason}
        return _page(
            request, staff, error=exc, form="language", values=values, status=exc.http_status
        )
    return RedirectResponse(f"/admin/staff?done=language&name={name}", status_code=303)


@router.post("/admin/staff/unlock")
def unlock_staff(
    request: Request, staff: AdminStaff, name: Text = "", reason: Text = ""
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            unlock(unit, name, reason=reason)
    except InputError as exc:
        values = {"name": name, "reason": reason}
        return _page(
            request, staff, error=exc, form="unlock", values=values, status=exc.http_status
        )
    return RedirectResponse(f"/admin/staff?done=unlocked&name={name}", status_code=303)


@router.get("/admin/staff/deactivate-preview", response_class=HTMLResponse)
def deactivate_preview(
    request: Request, staff: AdminStaff, name: str = "", reason: str = ""
) -> Response:
    """What deactivating ``name`` ends, with a reason and a confirmation to give."""
    try:
        if not name:
            raise InputError("name", "choose the account to deactivate")
        with request_unit(request, staff.name) as unit:
            found = preview_deactivation(unit.session, staff.name, name, unit.now)
    except InputError as exc:
        values = {"name": name, "reason": reason}
        return _page(
            request, staff, error=exc, form="deactivate", values=values, status=exc.http_status
        )
    words = request_wording(request)
    _ = words.gettext
    role = words.gettext(WORDS[found.role])
    return confirmation_page(
        request,
        title=_("Deactivate {name}").format(name=found.name),
        changes=[
            _("{name} ({role}) can no longer log in or sign.").format(name=found.name, role=role),
            words.ngettext(
                "Their {count} open login session ends at once.",
                "Their {count} open login sessions end at once.",
                found.sessions,
            ).format(count=found.sessions),
            words.ngettext(
                "Their {count} live API token is revoked at once, for good.",
                "Their {count} live API tokens are revoked at once, for good.",
                found.tokens,
            ).format(count=found.tokens),
            _("An admin can let them log in again with `dosing user reactivate`."),
        ],
        action="/admin/staff/deactivate",
        hidden={"name": found.name},
        confirm_label=_("I confirm that {name} is deactivated now").format(name=found.name),
        button=_("Deactivate {name}").format(name=found.name),
        cancel="/admin/staff",
        reason=reason,
    )


@router.post("/admin/staff/deactivate")
def deactivate_staff(
    request: Request, staff: AdminStaff, name: Text = "", reason: Text = "", confirm: Text = ""
) -> Response:
    """Deactivates the account confirmed on the preview page: never in one click."""
    try:
        with request_unit(request, staff.name) as unit:
            deactivate(unit, name, reason=require_confirmation(reason, confirm))
    except InputError as exc:
        values = {"name": name, "reason": reason}
        return _page(
            request, staff, error=exc, form="deactivate", values=values, status=exc.http_status
        )
    return RedirectResponse("/admin/staff", status_code=303)


@router.post("/admin/staff/token")
def token_for_staff(
    request: Request, staff: AdminStaff, name: Text = "", label: Text = "", days: Text = ""
) -> Response:
    try:
        lifetime = optional_whole("days", days)
        with request_unit(request, staff.name) as unit:
            token = issue_api_token(
                unit, name, label=label, days=TOKEN_LIFETIME_DAYS if lifetime is None else lifetime
            )
    except InputError as exc:
        values = {"name": name, "label": label, "days": days}
        return _page(request, staff, error=exc, form="token", values=values, status=exc.http_status)
    # Shown once, in this response only; it is stored as a digest.
    return _page(request, staff, token=token, values={"name": name})


@router.post("/admin/staff/token/revoke")
def revoke_token(
    request: Request, staff: AdminStaff, name: Text = "", token_id: Text = "", reason: Text = ""
) -> Response:
    try:
        number = whole("token_id", token_id, digits=9)
        with request_unit(request, staff.name) as unit:
            revoke_api_token(unit, name, number, reason=reason)
    except InputError as exc:
        values = {"name": name, "token_id": token_id, "reason": reason}
        return _page(
            request, staff, error=exc, form="revoke", values=values, status=exc.http_status
        )
    return RedirectResponse(
        f"/admin/staff?done=revoked&name={name}&token={number}", status_code=303
    )


@router.get("/account", response_class=HTMLResponse)
def own_account(request: Request, staff: CurrentStaff) -> Response:
    return _account_page(request, staff)


@router.post("/account/language")
def own_language(request: Request, staff: CurrentStaff, language: Text = "") -> Response:
    """Any account changes the language of its own pages (audited as ``staff.language``);
    the next page is in the new language."""
    try:
        with request_unit(request, staff.name) as unit:
            set_language(unit, staff.name, language)
    except InputError as exc:
        return _account_page(request, staff, error=exc, chosen=language, status=exc.http_status)
    return RedirectResponse("/account?done=language", status_code=303)


def _account_page(
    request: Request,
    staff: Staff,
    *,
    error: InputError | None = None,
    chosen: str = "",
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "staff": staff,
        "languages": LANGUAGE_NAMES,
        "chosen": chosen or staff.language,
        "error": error,
        "done": request.query_params.get("done") == "language",
    }
    return TEMPLATES.TemplateResponse(request, "account.html", context, status_code=status)
