"""/docs and the OpenAPI schema, for logged-in staff only: the schema lists every operation and
field, which is no business of someone who cannot log in.

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


def install(app: FastAPI) -> None:
    """Serve /docs, the schema and the static files; the app must be built with
    ``docs_url=None, openapi_url=None`` so that FastAPI's open ones are not served too."""
    app.mount(STATIC_PREFIX.rstrip("/"), StaticFiles(directory=STATIC_DIRECTORY), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs(_staff: CurrentStaff) -> HTMLResponse:
        page = _docs_page(f"{app.title} - API")
        return HTMLResponse(page)

    @app.get(OPENAPI_URL, include_in_schema=False)
    def openapi_schema(_staff: CurrentStaff) -> JSONResponse:
        schema: dict[str, Any] = app.openapi()
        return JSONResponse(schema)
