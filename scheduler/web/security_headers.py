"""The security headers every answer carries, as plain ASGI middleware: Starlette's
``@app.middleware`` wraps each request in a task and a stream, which cost a third of a feed
revalidation.

- Content-Security-Policy: scripts only from this server (no page has an inline script; /docs
  serves Swagger UI from the package and starts it from ``static/docs.js``), no plugins, no framing,
  forms post only here. Inline styles stay allowed: the templates and the SVG pictures carry
  them, and a style cannot run code.
- Referrer-Policy ``no-referrer``: feed URLs carry secrets, and no page needs the Referer.
- X-Frame-Options and X-Content-Type-Options, for browsers older than frame-ancestors.
- Cache-Control ``no-store`` on every answer that does not set its own: pages and API answers
  show patient data, and a shared computer's cache must not keep them. Calendar feeds set
  their own (``private``, revalidated with ETags); static files may be cached.
- The patient page and its one-tap links set stricter ones of their own (``PATIENT_HEADERS``).
- Strict-Transport-Security when the request came over https (behind a proxy, uvicorn's
  ``--proxy-headers`` makes the scheme that of the original request).

A response that sets one of these headers itself keeps its own value.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
PATIENT_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""The patient page and the one-tap links: no script at all (inline or not), styles only from
this server's stylesheet, nothing else loaded."""
PATIENT_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": PATIENT_CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
"""What every answer under a patient's secret link sets itself: the page needs no staff login,
its address is a secret, and a phone's or a proxy's cache must not keep what it shows."""
HSTS = "max-age=31536000"
"""A year, without includeSubDomains: other hosts of the hospital's domain are not ours."""
STATIC_PREFIX = "/static/"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        static = scope["path"].startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
