"""Login and logout, and how refusals look: pages send people to the login form, the API
answers 401/403 as JSON with the field and the reason.

Failed logins are throttled per name and per client address, and a name is locked out after
ten in a row (``throttle``): an attempt before its time is refused with 429 and Retry-After
without its password being checked.

Sessions are server-side rows (``StaffSession``): the cookie holds a random token whose digest
names the row, so logging out or deactivating an account ends the session at once. The cookie is
HttpOnly, SameSite=Lax, and Secure whenever the request came over HTTPS. Each session has its own
CSRF synchronizer token, sent back by every form (see ``deps.get_staff``). The login form, which
has no session yet, uses a double-submit token: a random value in a cookie and in the form.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from scheduler.core.wording import N_
from scheduler.staff.accounts import (
    SESSION_LIFETIME,
    end_session,
    start_session,
    verify_password,
)
from scheduler.staff.throttle import Wait, clear_failures, login_wait, record_failure
from scheduler.web.deps import (
    CSRF_FIELD,
    SESSION_COOKIE,
    CsrfRefused,
    CurrentStaff,
    LoginRequired,
    RoleRefused,
    request_unit,
    wants_json,
)
from scheduler.web.page_language import request_wording
from scheduler.web.rendering import TEMPLATES

LOGIN_CSRF_COOKIE = "dosing_login_csrf"

router = APIRouter(include_in_schema=False)


def csrf_input(request: Request) -> Markup:
    """The hidden field every form of a logged-in page carries."""
    token = getattr(request.state, "csrf_token", "")
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


TEMPLATES.env.globals["csrf_input"] = csrf_input


def _safe_next(target: str | None) -> str:
    """Only a path on this server: never an absolute URL (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _in_their_words(request: Request, message: str) -> str:
    """``message`` (marked ``N_``) in the language of whoever is at the login form."""
    return request_wording(request).gettext(message)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(request: Request, next_url: str, error: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = TEMPLATES.TemplateResponse(
        request,
        "login.html",
        {"next": next_url, "error": error, "login_csrf": token},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


def _throttled(request: Request, next_url: str, wait: Wait) -> Response:
    """429 with Retry-After: the attempt came before the next allowed time, and its password
    was not checked."""
    words = request_wording(request)
    if wait.locked:
        minutes = -(-wait.seconds // 60)
        message = words.ngettext(
            "Too many failed logins: this account is locked for {count} minute. An admin can "
            "unlock it sooner.",
            "Too many failed logins: this account is locked for {count} minutes. An admin can "
            "unlock it sooner.",
            minutes,
        ).format(count=minutes)
    else:
        message = words.ngettext(
            "Too many failed logins: please wait {count} second and try again.",
            "Too many failed logins: please wait {count} seconds and try again.",
            wait.seconds,
        ).format(count=wait.seconds)
    response = _login_page(request, next_url, message, 429)
    response.headers["Retry-After"] = str(wait.seconds)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, _safe_next(next))


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    next_url = _safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_page(
            request,
            next_url,
            _in_their_words(request, N_("The form expired; please try again.")),
            403,
        )
    address = request.client.host if request.client else None
    login_session = None
    with request_unit(request, "login") as unit:
        wait = login_wait(unit.session, name, address, unit.now)
        if wait is None:
            staff = verify_password(unit.session, name.strip(), password)
            if staff is None:
                record_failure(unit, name, address)
            else:
                unit.actor = staff.name
                clear_failures(unit, staff.name)
                login_session = start_session(unit, staff)
    if wait is not None:
        return _throttled(request, next_url, wait)
    if login_session is None:
        return _login_page(
            request,
            next_url,
            _in_their_words(request, N_("Unknown user name or wrong password.")),
            401,
        )
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        login_session.token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, staff: CurrentStaff) -> Response:
    with request_unit(request, staff.name) as unit:
        end_session(unit, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=_secure(request))
    return response


def _refusal(request: Request, status: int, field: str, reason: str) -> Response:
    if wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(
            {"error": {"field": field, "reason": reason}}, status_code=status, headers=headers
        )
    return TEMPLATES.TemplateResponse(
        request, "refused.html", {"reason": reason}, status_code=status
    )


def install(app: FastAPI) -> None:
    """Add the login routes and the handlers that turn refusals into responses (the headers
    every answer carries are ``web.security_headers``)."""

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if wants_json(request):
            return _refusal(request, 401, "authorization", exc.reason)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(RoleRefused)
    async def role_refused(request: Request, exc: RoleRefused) -> Response:
        reason = (
            f"{exc.staff.name} is a {exc.staff.role}; this needs the role "
            f"{' or '.join(exc.allowed)}"
        )
        return _refusal(request, 403, "role", reason)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return _refusal(request, 403, CSRF_FIELD, str(exc))

    app.include_router(router)
