"""Request dependencies: who is asking, what their role allows, and the one way a request opens
a unit of work (its audit actor is the logged-in staff user).

Two ways to authenticate, never mixed up:
- a browser sends the session cookie; every POST it makes must carry the session's CSRF token;
- an API client sends ``Authorization: Bearer <token>``; a header is never sent by a browser on
  its own, so bearer requests need no CSRF token. The cookie is not accepted under ``/api``,
  but for reading the OpenAPI schema (a GET that changes nothing) from the /docs page.
"""

from __future__ import annotations

import hmac
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractContextManager
from datetime import datetime
from functools import partial, wraps
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from scheduler.clock import Clock
from scheduler.db import reading, transaction
from scheduler.kernel.actors import (
    ADMIN_ACTIONS,
    INVESTIGATOR_ACTIONS,
    NURSE_ACTIONS,
    PHARMACY_ACTIONS,
)
from scheduler.kernel.unit import Unit, unit_of_work
from scheduler.kernel.validation import CODE_PATTERN
from scheduler.settings import Settings
from scheduler.staff.accounts import Staff, session_staff, token_staff

SESSION_COOKIE = "dosing_session"
CSRF_FIELD = "csrf_token"
OPENAPI_URL = "/api/openapi.json"
"""The one path under /api that also takes the session cookie: /docs, a page, reads it."""


SubjectCode = Annotated[str, Path(pattern=CODE_PATTERN, description="Subject code")]
"""A subject code in a URL: refused before any query when it cannot be one."""

_bearer = HTTPBearer(auto_error=False, description="An API token from `dosing user token NAME`")


class LoginRequired(Exception):
    """Raised when a request carries no valid session or token; pages redirect to the login
    form, the API answers 401."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RoleRefused(Exception):
    """Raised when the staff user's role does not allow the request (403)."""

    def __init__(self, staff: Staff, allowed: tuple[str, ...]) -> None:
        super().__init__(f"{staff.role} may not do this (allowed: {', '.join(allowed)})")
        self.staff = staff
        self.allowed = allowed


class CsrfRefused(Exception):
    """Raised when a browser POST lacks its session's CSRF token (403)."""


def get_engine_dep(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


def wants_json(request: Request) -> bool:
    """Whether a refusal goes back as JSON: anything under /api, and any request carrying a
    bearer token (a program, not a person at a browser)."""
    return is_api(request) or "authorization" in request.headers


def _token_staff(engine: Engine, token: str, now: datetime) -> Staff | None:
    """Read without the write lock; only a use to note (at most once a minute a token) takes
    a write transaction of its own."""
    with reading(engine) as session:
        staff = token_staff(session, token, now)
        noted = bool(session.dirty)
    if not noted:
        return staff
    with transaction(engine) as session:
        return token_staff(session, token, now)


def _session_staff(engine: Engine, token: str, now: datetime) -> tuple[Staff, str] | None:
    with transaction(engine) as session:
        return session_staff(session, token, now)


async def get_staff(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Staff:
    """The staff user making the request, from a bearer token or (outside /api) the session
    cookie; a cookie-authenticated POST must carry the session's CSRF token."""
    cached: Staff | None = getattr(request.state, "staff", None)
    if cached is not None:
        return cached
    engine: Engine = request.app.state.engine
    now = request.app.state.clock.now()
    if credentials is not None:
        staff = await run_in_threadpool(_token_staff, engine, credentials.credentials, now)
        if staff is None:
            raise LoginRequired("the bearer token is unknown, revoked or expired")
    elif is_api(request) and request.url.path != OPENAPI_URL:
        raise LoginRequired("an API token is required: Authorization: Bearer <token>")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        found = await run_in_threadpool(_session_staff, engine, cookie, now) if cookie else None
        if found is None:
            raise LoginRequired("please log in")
        staff, csrf = found
        request.state.csrf_token = csrf
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            sent = (await request.form()).get(CSRF_FIELD)
            if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf):
                raise CsrfRefused("the form's CSRF token is missing or wrong; reload the page")
    request.state.staff = staff
    return staff


CurrentStaff = Annotated[Staff, Depends(get_staff)]


def require_role(*roles: str) -> Callable[[Staff], Coroutine[Any, Any, Staff]]:
    """A dependency that lets only staff with one of ``roles`` through."""

    # A coroutine: FastAPI would run a plain function in the thread pool, a hop for a comparison.
    async def check(staff: CurrentStaff) -> Staff:
        if staff.role not in roles:
            raise RoleRefused(staff, roles)
        return staff

    return check


NurseStaff = Annotated[Staff, Depends(require_role(*NURSE_ACTIONS))]
InvestigatorStaff = Annotated[Staff, Depends(require_role(*INVESTIGATOR_ACTIONS))]
AdminStaff = Annotated[Staff, Depends(require_role(*ADMIN_ACTIONS))]
PharmacistStaff = Annotated[Staff, Depends(require_role(*PHARMACY_ACTIONS))]


def request_unit(request: Request, actor: str) -> AbstractContextManager[Unit]:
    """The one way a page or API call opens a unit of work: the app's engine, clock and
    settings (derived stores such as reminders follow the app's settings, not the process's).
    The unit sees only the sites of the staff account ``actor`` (``kernel.sites``): those read
    with the request's token or login session when ``actor`` is its account, so the
    transaction begins at the operation's own first statement (on SQLite, that is where it
    takes the write lock)."""
    state = request.app.state
    staff: Staff | None = getattr(request.state, "staff", None)
    return unit_of_work(
        state.engine,
        actor,
        state.clock,
        state.settings,
        bind_account=True,
        account_sites=staff.site_ids if staff is not None and staff.name == actor else None,
    )


async def get_unit(request: Request, staff: CurrentStaff) -> AsyncIterator[Unit]:
    """Opened on the event loop, which costs no statement (the account's sites are known and
    the session begins at its first one), and committed in the thread pool: one hop fewer
    than a plain generator, whose opening FastAPI also sends to the pool."""
    opened = request_unit(request, staff.name)
    unit = opened.__enter__()
    try:
        yield unit
    except BaseException as error:
        if not await run_in_threadpool(opened.__exit__, type(error), error, error.__traceback__):
            raise
    else:
        await run_in_threadpool(opened.__exit__, None, None, None)


UnitDep = Annotated[Unit, Depends(get_unit, scope="function")]
"""Committed when the operation returns, before its answer is sent: a client never holds a
success for a row that is not stored (the default, request scope, commits after the
response, when a failure can no longer reach the client)."""


async def get_unit_opener(
    request: Request, staff: CurrentStaff
) -> Callable[[], AbstractContextManager[Unit]]:
    """What a ``WriteRoute`` write receives in place of its unit, to open it in its own trip."""
    return partial(request_unit, request, staff.name)


_UnitOpenerDep = Annotated[Callable[[], AbstractContextManager[Unit]], Depends(get_unit_opener)]
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteRoute(APIRoute):
    """The route class of the JSON API: a write whose operation takes a ``UnitDep`` runs the
    unit's opening, the operation and the commit in one trip to the thread pool, and is
    answered after that trip, so after the commit.

    With the unit as a dependency, FastAPI sends the operation, the check of its answer and
    the commit to the pool one after the other, each trip a wait for the event loop and a
    thread: about a millisecond of a write's CPU, and, on SQLite, between the operation's
    first statement and its commit, inside the database's one write lock, which every other
    writer waits for. The answer is checked on the event loop after the commit, so an
    operation answers with values (a dict, a pydantic model), never with rows still to load.
    Reads keep the dependency: their answers (a worklist of thousands of items) are checked in
    the pool, not on the event loop."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if WRITE_METHODS.intersection(kwargs.get("methods") or ()):
            endpoint = _in_one_trip(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _in_one_trip(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` as a coroutine taking an opener where it took the unit; unchanged when it
    takes no unit or is a coroutine already (it does its own trips)."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint
    signature = inspect.signature(endpoint, eval_str=True)
    names = [name for name, p in signature.parameters.items() if p.annotation == UnitDep]
    if not names:
        return endpoint
    (name,) = names

    @wraps(endpoint)
    async def in_one_trip(**values: Any) -> Any:
        opener: Callable[[], AbstractContextManager[Unit]] = values.pop(name)

        def operation() -> Any:
            with opener() as unit:
                return endpoint(**values, **{name: unit})

        return await run_in_threadpool(operation)

    in_one_trip.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            p.replace(annotation=_UnitOpenerDep) if p.name == name else p
            for p in signature.parameters.values()
        ]
    )
    return in_one_trip


ClockDep = Annotated[Clock, Depends(get_clock)]
EngineDep = Annotated[Engine, Depends(get_engine_dep)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
