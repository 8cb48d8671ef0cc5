"""/docs and the OpenAPI schema, for logged-in staff only: the schema lists every operation and
field, which is no business of someone who cannot log in.

Every operation under /api declares the refusals of ``api_types.ERRORS`` with the one error
body, whichever router it comes from and whatever that router declared: a new endpoint cannot
leave them out, nor keep FastAPI's own 422 body, which the API never sends.

FastAPI's own /docs page loads Swagger UI from a CDN and starts it with an inline script; this
one serves Swagger UI from the package (``static/swagger-ui``, swagger-ui-dist from the npm
registry, Apache-2.0: see its LICENSE and NOTICE there), so /docs works on a ward network with
no way out, and starts it from ``static/docs.js`` under the app's own Content-Security-Policy.
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

SWAGGER_UI = f"{STATIC_PREFIX}swagger-ui"
"""swagger-ui-dist 5.36.0 (to update: ``npm pack swagger-ui-dist@VERSION``, copy its
swagger-ui-bundle.js, swagger-ui.css, LICENSE, NOTICE and swagger-ui-bundle.js.LICENSE.txt)."""
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
        return HTMLResponse(page)

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_refusals(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get(OPENAPI_URL, include_in_schema=False)
    def openapi_schema(_staff: CurrentStaff) -> JSONResponse:
        return JSONResponse(app.openapi())
