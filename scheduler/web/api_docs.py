"""/docs and the OpenAPI schema, for logged-in staff only: the schema lists every operation and
field, which is no business of someone who cannot log in.

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


def install(app: FastAPI) -> None:
    """Serve /docs, the schema and the static files; the app must be built with
    ``docs_url=None, openapi_url=None`` so that FastAPI's open ones are not served too."""
    app.mount(STATIC_PREFIX.rstrip("/"), StaticFiles(directory=STATIC_DIRECTORY), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs(_staff: CurrentStaff) -> HTMLResponse:
        page = _docs_page(f"{app.title} - API")
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})

    @app.get(OPENAPI_URL, include_in_schema=False)
    def openapi_schema(_staff: CurrentStaff) -> JSONResponse:
        schema: dict[str, Any] = app.openapi()
        return JSONResponse(schema)
