"""Accounts for the admin role: list staff with their sites, lockouts and API tokens; add an
account, set its sites, lift a lockout, deactivate it, issue and revoke API tokens. The same
service functions as ``dosing user ...``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.errors import InputError
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
    set_sites,
)
from scheduler.staff.throttle import unlock
from scheduler.web.confirmation import confirmation_page, require_confirmation
from scheduler.web.deps import AdminStaff, request_unit
from scheduler.web.forms import optional_whole, whole
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
        "created": request.query_params.get("created", ""),
        "done": request.query_params.get("done", ""),
    }
    return TEMPLATES.TemplateResponse(request, "admin_staff.html", context, status_code=status)


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
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            created = create_staff(unit, name.strip(), role=role, password=password, sites=site)
    except InputError as exc:
        values = {"name": name, "role": role, "sites": site}
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
    return RedirectResponse(f"/admin/staff?done=sites+of+{name}+changed", status_code=303)


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
    return RedirectResponse(f"/admin/staff?done={name}+unlocked", status_code=303)


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
    return confirmation_page(
        request,
        title=f"Deactivate {found.name}",
        changes=[
            f"{found.name} ({found.role}) can no longer log in or sign.",
            f"Their {found.sessions} open login session(s) end at once.",
            f"Their {found.tokens} live API token(s) are revoked at once, for good.",
            "An admin can let them log in again with `dosing user reactivate`.",
        ],
        action="/admin/staff/deactivate",
        hidden={"name": found.name},
        confirm_label=f"I confirm that {found.name} is deactivated now",
        button=f"Deactivate {found.name}",
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
    return RedirectResponse(f"/admin/staff?done=token+{number}+of+{name}+revoked", status_code=303)
