"""/docs and the OpenAPI schema, for logged-in staff only: the schema lists every operation and
field, which is no business of someone who cannot log in.

Every operation under /api declares the refusals of ``api_types.ERRORS`` with the one error
body, whichever router it comes from and whatever that router declared: a new endpoint cannot
leave them out, nor keep FastAPI's own 422 body, which the API never sends.

FastAPI's own /docs page starts Swagger UI with an inline script, which the Content-Security-
Policy forbids; this one starts it from ``static/docs.js``, and its own policy lets in Swagger
UI's script and stylesheet from the CDN FastAPI uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from markupsafe import escape

from scheduler.web.api_types import ERRORS, ErrorOut
from scheduler.web.deps import OPENAPI_URL, CurrentStaff
from scheduler.web.security_headers import STATIC_PREFIX

SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
STATIC_DIRECTORY = Path(__file__).parent / "static"


def _docs_page(title: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script src="{STATIC_PREFIX}docs.js"></script>
</body>
</html>
"""


COMPONENTS = "#/components/schemas/"
FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")
"""FastAPI's own 422 body, which ``error_pages`` replaces."""


def declare_refusals(schema: dict[str, Any]) -> dict[str, Any]:
    """Give every /api operation the ``ERRORS`` refusals, each 4xx answer the ``ErrorOut``
    body, and drop FastAPI's validation-error schemas that nothing uses any more."""
    error_schema = ErrorOut.model_json_schema(ref_template=COMPONENTS + "{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(error_schema.pop("$defs", {}))
    components[ErrorOut.__name__] = error_schema
    body = {"application/json": {"schema": {"$ref": COMPONENTS + ErrorOut.__name__}}}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, declared in ERRORS.items():
                responses.setdefault(str(status), {"description": declared["description"]})
            for status, response in responses.items():
                if status.startswith("4"):
                    response["content"] = body
    for name in FRAMEWORK_SCHEMAS:
        components.pop(name, None)
    return schema


def install(app: FastAPI) -> None:
    """Serve /docs, the schema and the static files; the app must be built with
    ``docs_url=None, openapi_url=None`` so that FastAPI's open ones are not served too."""
    app.mount(STATIC_PREFIX.rstrip("/"), StaticFiles(directory=STATIC_DIRECTORY), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs(_staff: CurrentStaff) -> HTMLResponse:
        page = _docs_page(f"{app.title} - API")
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_refusals(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get(OPENAPI_URL, include_in_schema=False)
    def openapi_schema(_staff: CurrentStaff) -> JSONResponse:
        return JSONResponse(app.openapi())
