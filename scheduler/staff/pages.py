"""Accounts for the admin role: list staff, add an account, deactivate one, issue an API token.
The same service functions as ``dosing user ...``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.errors import InputError
from scheduler.models import ROLES
from scheduler.staff.accounts import (
    Staff,
    create_staff,
    deactivate,
    issue_api_token,
    list_staff,
)
from scheduler.web.deps import AdminStaff, request_unit
from scheduler.web.rendering import TEMPLATES

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]


def _page(
    request: Request,
    staff: Staff,
    *,
    error: InputError | None = None,
    form: str = "",
    values: dict[str, str] | None = None,
    token: str = "",
    status: int = 200,
) -> Response:
    with request_unit(request, staff.name) as unit:
        accounts = list_staff(unit.session)
    context: dict[str, Any] = {
        "accounts": accounts,
        "roles": ROLES,
        "error": error,
        "form": form,
        "values": values or {},
        "token": token,
        "created": request.query_params.get("created", ""),
    }
    return TEMPLATES.TemplateResponse(request, "admin_staff.html", context, status_code=status)


@router.get("/admin/staff", response_class=HTMLResponse)
def staff_page(request: Request, staff: AdminStaff) -> Response:
    return _page(request, staff)


@router.post("/admin/staff")
def add_staff(
    request: Request, staff: AdminStaff, name: Text = "", role: Text = "", password: Text = ""
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            created = create_staff(unit, name.strip(), role=role, password=password)
    except InputError as exc:
        values = {"name": name, "role": role}
        return _page(request, staff, error=exc, form="add", values=values, status=exc.http_status)
    return RedirectResponse(f"/admin/staff?created={created.name}", status_code=303)


@router.post("/admin/staff/deactivate")
def deactivate_staff(
    request: Request, staff: AdminStaff, name: Text = "", reason: Text = ""
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            deactivate(unit, name, reason=reason)
    except InputError as exc:
        values = {"name": name, "reason": reason}
        return _page(
            request, staff, error=exc, form="deactivate", values=values, status=exc.http_status
        )
    return RedirectResponse("/admin/staff", status_code=303)


@router.post("/admin/staff/token")
def token_for_staff(
    request: Request, staff: AdminStaff, name: Text = "", label: Text = ""
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            token = issue_api_token(unit, name, label=label)
    except InputError as exc:
        values = {"name": name, "label": label}
        return _page(request, staff, error=exc, form="token", values=values, status=exc.http_status)
    # Shown once, in this response only; it is stored as a digest.
    return _page(request, staff, token=token, values={"name": name})
