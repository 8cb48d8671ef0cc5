"""Calendar feeds over HTTP.

``/feeds/{token}.ics`` is authenticated by its secret token alone (calendar clients cannot log
in): it never looks at the staff session and never sets a cookie. What a subscribed client
relies on:

- a strong ETag (SHA-256 of the body, ``-gz`` appended for the gzip coding) and Last-Modified
  from the feed's stored revision, with 304 for a matching If-None-Match or an If-Modified-Since
  at or after the revision (an invalid, garbage or future date is ignored: 200);
- 404 for an unknown token and 410 for a revoked one, after the same hash and lookup;
- 503 with Retry-After when the database (or anything else behind the feed) fails, never an
  empty or partial 200, which some clients take as "the calendar is now empty" and wipe it;
- 429 past a per-token token bucket (in-process: each server process counts on its own);
- the token never reaches a log line: ``RedactFeedTokens`` rewrites the access log's path.
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Route

from scheduler.errors import NotFound
from scheduler.feeds.serving import FeedBody, fetch_feed
from scheduler.feeds.tokens import FeedGone, hash_token

log = logging.getLogger(__name__)

CALENDAR_TYPE = "text/calendar; charset=utf-8"
RETRY_AFTER_SECONDS = 120
_GZIP_MIN_BYTES = 512
_TOKEN_PATH = "/feeds/"


class RedactFeedTokens(logging.Filter):
    """Replaces whatever follows ``/feeds/`` in a log record's arguments and message."""

    @staticmethod
    def _redact(value: object) -> object:
        if isinstance(value, str) and _TOKEN_PATH in value:
            head, _, tail = value.partition(_TOKEN_PATH)
            rest = tail.split("?", 1)[0]
            suffix = ".ics" if rest.split("/", 1)[0].endswith(".ics") else ""
            return f"{head}{_TOKEN_PATH}[redacted]{suffix}"
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact(arg) for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = str(self._redact(record.msg))
        return True


def install_log_redaction() -> None:
    """Attach the filter to the loggers that print request paths (idempotent)."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn", "fastapi"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactFeedTokens) for f in logger.filters):
            logger.addFilter(RedactFeedTokens())


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per feed token (keyed by its hash), in this process only: calendar
    clients poll about hourly, so a burst and a slow steady rate never hinder one; it stops a
    leaked URL from being hammered. Several server processes each keep their own buckets."""

    MAX_KEYS = 100_000

    def __init__(self, rate: float, burst: int, now: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._now = rate, burst, now
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0 when allowed, else the seconds until the next request would be."""
        now = self._now()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.MAX_KEYS:
                    self._buckets.clear()
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate


def install(app: FastAPI) -> None:
    settings = app.state.settings
    app.state.feed_limiter = RateLimiter(settings.feed_rate_per_second, settings.feed_rate_burst)
    install_log_redaction()
    # Every subscribed client polls the feed URL, so it is most of the traffic: a plain
    # Starlette route (no FastAPI parameter handling), matched before every other route.
    # About a fifth less CPU per revalidation than a FastAPI route at the end of the table.
    feed = Route(
        "/feeds/{token}.ics", calendar_feed, methods=["GET", "HEAD"], include_in_schema=False
    )
    app.router.routes.insert(0, feed)


def _etags(header: str) -> list[str]:
    """The entity tags of an If-None-Match header, opaque part only (weak comparison)."""
    tags = []
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tags.append(tag.strip('"'))
    return tags


def _not_modified_since(header: str | None, revised: datetime, now: datetime) -> bool:
    if not header:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since is None or since.tzinfo is None or since > now:
        return False
    return revised.replace(microsecond=0) <= since


def _wants_gzip(header: str) -> bool:
    """Whether Accept-Encoding accepts gzip (or ``*``) with a quality above zero."""
    for part in header.split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        if coding.lower() not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        return quality > 0
    return False


_gzipped: dict[str, bytes] = {}


def _gzip(digest: str, body: bytes) -> bytes:
    found = _gzipped.get(digest)
    if found is None:
        if len(_gzipped) > 4096:
            _gzipped.clear()
        found = _gzipped[digest] = gzip.compress(body, compresslevel=6, mtime=0)
    return found


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    base = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return Response(text + "\n", status, {**base, **(headers or {})}, "text/plain")


def calendar_feed(request: Request) -> Response:
    """GET and HEAD ``/feeds/{token}.ics``."""
    token: str = request.path_params["token"]
    app = request.app
    wait = app.state.feed_limiter.allow(hash_token(token))
    if wait:
        return _plain(429, "too many requests", {"Retry-After": str(int(wait) + 1)})
    now = app.state.clock.now()
    none_match = request.headers.get("if-none-match")
    since = request.headers.get("if-modified-since")
    clients = set(_etags(none_match)) if none_match is not None else set()

    def unchanged(digest: str, revised: datetime) -> bool:
        if none_match is not None:
            return bool(clients & {digest, f"{digest}-gz", "*"})
        return _not_modified_since(since, revised, now)

    try:
        feed: FeedBody = fetch_feed(
            app.state.engine, token, app.state.clock, app.state.settings, unchanged=unchanged
        )
    except FeedGone:
        return _plain(410, "this calendar link was withdrawn; ask the study team for a new one")
    except NotFound:
        return _plain(404, "no such calendar")
    except Exception:  # the database, or any other failure: never a partial calendar
        log.exception("calendar feed unavailable")
        return _plain(
            503, "calendar temporarily unavailable", {"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    gzipped = _wants_gzip(request.headers.get("accept-encoding", ""))
    headers = {
        "ETag": f'"{feed.digest}-gz"' if gzipped else f'"{feed.digest}"',
        "Last-Modified": format_datetime(feed.revised_at.astimezone(UTC), usegmt=True),
        "Cache-Control": "private",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if unchanged(feed.digest, feed.revised_at):
        return Response(status_code=304, headers=headers)
    assert feed.body is not None
    body = feed.body
    if gzipped and len(body) >= _GZIP_MIN_BYTES:
        body = _gzip(feed.digest, body)
        headers["Content-Encoding"] = "gzip"
    elif gzipped:
        headers["ETag"] = f'"{feed.digest}"'
    headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(b"", 200, headers, CALENDAR_TYPE)
    return Response(body, 200, headers, CALENDAR_TYPE)


# -- staff pages ------------------------------------------------------------------------------
