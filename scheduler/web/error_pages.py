"""How refused input looks: the JSON API answers ``{"error": {"field", "reason"}}``, a person in a
browser gets a page saying what went wrong. Pages that can show the error next to the field
they asked for (the worklist's pickers, the subject forms) catch ``InputError`` themselves;
these handlers are for everything else, so no page ever answers a person with raw JSON, and no
API client ever gets another shape: Starlette's and FastAPI's own refusals (no such path, a
method the path does not take, a body that cannot be read) are answered as the services' are."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from scheduler.core.wording import N_
from scheduler.errors import InputError, ProtocolError, StorageUnavailable
from scheduler.web.deps import wants_json
from scheduler.web.rendering import TEMPLATES

TITLES = {
    404: N_("Not found"),
    409: N_("Not possible"),
    422: N_("Not a valid request"),
    503: N_("Not stored"),
}
RETRY_AFTER_SECONDS = 30
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HTTP_FIELDS = {400: "body", 404: "path", 405: "method"}
"""What a refusal raised by the framework rather than the services is about."""


def problem_page(request: Request, title: str, reason: str, status: int) -> Response:
    """A page that says what went wrong, for a person in a browser; ``title`` is a catalogue
    message (``N_``), shown in the reader's language."""
    return TEMPLATES.TemplateResponse(
        request, "refused.html", {"title": title, "reason": reason}, status_code=status
    )


def refusal(request: Request, field: str, reason: str, status: int) -> Response:
    if wants_json(request):
        return JSONResponse({"error": {"field": field, "reason": reason}}, status_code=status)
    title = TITLES.get(status, N_("Not a valid request"))
    return problem_page(request, title, f"{field}: {reason}", status)


def _first_problem(exc: RequestValidationError) -> tuple[str, str]:
    """The field and reason of the first value FastAPI refused. The field is the last name in
    its location (``("body", "onset")`` is ``onset``), the name the caller used."""
    errors = exc.errors()
    if not errors:
        return "request", "is not valid"
    first = errors[0]
    names = [part for part in first.get("loc", ()) if isinstance(part, str)]
    return (names[-1] if names else "request"), str(first.get("msg", "is not valid"))


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at the request's path, found by asking the routes as the
    router does. Starlette's 405 names only the methods of the first route whose path matched,
    though a path such as ``/api/staff`` has a route for GET and another for POST."""
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


def _framework_refusal(request: Request, exc: HTTPException) -> tuple[str, str, dict[str, str]]:
    """The field, reason and headers of a refusal Starlette or FastAPI raised."""
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        reason = f"{request.method} is not allowed here (allowed: {', '.join(allowed)})"
        return "method", reason, headers
    if exc.status_code == 404 and exc.detail == HTTPStatus.NOT_FOUND.phrase:
        return "path", f"no such address: {request.url.path}", headers
    return HTTP_FIELDS.get(exc.status_code, "request"), str(exc.detail), headers


def install(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        return refusal(request, exc.field, exc.reason, exc.http_status)

    @app.exception_handler(StorageUnavailable)
    async def storage_unavailable(request: Request, exc: StorageUnavailable) -> Response:
        answer = refusal(request, "database", f"nothing was stored ({exc})", 503)
        answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return answer

    @app.exception_handler(ProtocolError)
    async def protocol_error(request: Request, exc: ProtocolError) -> Response:
        return refusal(request, exc.key_path, str(exc), 422)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> Response:
        field, reason = _first_problem(exc)
        return refusal(request, field, reason, 422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code < 400:
            return await http_exception_handler(request, exc)
        field, reason, headers = _framework_refusal(request, exc)
        if wants_json(request):
            answer = refusal(request, field, reason, exc.status_code)
        else:
            answer = problem_page(
                request, TITLES.get(exc.status_code, N_("Error")), reason, exc.status_code
            )
        answer.headers.update(headers)
        return answer
