"""Real receivers on loopback for the reminder tests and the benchmark: an SMTP server (aiosmtpd)
and an HTTP webhook receiver that checks the HMAC signature. Both log each message's
idempotency key, so a test can count deliveries per key. ``queue_rows`` fills the outbox;
``SteppedClock`` is the jobs' clock when a test moves time."""

from __future__ import annotations

import hmac
import json
import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from scheduler.db import get_engine
from scheduler.kernel.unit import unit_of_work
from scheduler.reminders.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from scheduler.reminders.outbox import idempotency_key, insert_ignoring_duplicates

SECRET = "reminder-test-secret-0123456789"


def start_worker(
    db_url: str, smtp_port: int, webhook_url: str, *args: str, **settings: str
) -> subprocess.Popen[bytes]:
    """``dosing worker *args`` in its own process, sending to the test receivers; ``settings``
    are extra ``DOSING_*`` variables (``REMINDER_SENDERS="1"`` and so on)."""
    env = dict(
        os.environ,
        DOSING_DATABASE_URL=db_url,
        DOSING_SMTP_PORT=str(smtp_port),
        DOSING_WEBHOOK_URL=webhook_url,
        DOSING_WEBHOOK_SECRET=SECRET,
        **{f"DOSING_{name}": value for name, value in settings.items()},
    )
    return subprocess.Popen(
        [sys.executable, "-m", "scheduler", "worker", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SteppedClock:
    """A clock the test moves (while a scheduler runs on the wall clock)."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant


class Deliveries:
    """Idempotency keys received, in order, shared by the server threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.keys: list[str] = []
        self.bodies: dict[str, str] = {}
        self.received: list[tuple[str, str]] = []
        """Every delivery as (key, body), repeats included."""
        self.refuse_next = 0
        """How many of the next deliveries to refuse with a temporary error."""
        self.refused = 0

    def should_refuse(self) -> bool:
        with self._lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.refused += 1
                return True
            return False

    def add(self, key: str, body: str) -> None:
        with self._lock:
            self.keys.append(key)
            self.bodies[key] = body
            self.received.append((key, body))

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.keys)

    def keys_by_body(self) -> dict[str, set[str]]:
        """The distinct idempotency keys each message text arrived with: a message repeated
        under a second key is a duplicate no receiver can drop."""
        found: dict[str, set[str]] = {}
        with self._lock:
            for key, body in self.received:
                found.setdefault(body, set()).add(key)
        return found


class _SmtpHandler:
    def __init__(self, deliveries: Deliveries, refuse_domain: str = "refused.invalid") -> None:
        self.deliveries = deliveries
        self.refuse_domain = refuse_domain

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@" + self.refuse_domain):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.deliveries.should_refuse():
            return "451 try again later"
        message = message_from_bytes(envelope.content)
        key = message["X-Dosing-Idempotency-Key"]
        assert message["Message-ID"] == f"<{key}@dosing.invalid>"
        payload = message.get_payload(decode=True)
        self.deliveries.add(key, payload.decode(message.get_content_charset() or "ascii"))
        return "250 accepted"


class SmtpReceiver:
    def __init__(self) -> None:
        self.deliveries = Deliveries()
        self.port = free_port()
        self.controller = Controller(
            _SmtpHandler(self.deliveries), hostname="127.0.0.1", port=self.port
        )

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class WebhookReceiver:
    """Accepts a POST only with a valid signature (401 otherwise); logs the idempotency key."""

    def __init__(self, secret: str = SECRET) -> None:
        self.deliveries = Deliveries()
        self.bad_signatures = 0
        self.reject_with = 0
        """A status to answer every well-signed request with (0: accept)."""
        deliveries, secret_bytes, receiver = self.deliveries, secret.encode(), self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 5

            def log_message(self, *args: object) -> None:
                return None

            def _reply(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = signature(secret_bytes, self.headers[TIMESTAMP_HEADER] or "", body)
                if not hmac.compare_digest(expected, self.headers[SIGNATURE_HEADER] or ""):
                    receiver.bad_signatures += 1
                    self._reply(401)
                    return
                if deliveries.should_refuse():
                    self._reply(503)
                    return
                if receiver.reject_with:
                    self._reply(receiver.reject_with)
                    return
                payload = json.loads(body)
                assert payload["idempotency_key"] == self.headers["Idempotency-Key"]
                deliveries.add(payload["idempotency_key"], payload["text"])
                self._reply(204)

        class Server(ThreadingHTTPServer):
            def shutdown_request(self, request: object) -> None:
                super().shutdown_request(request)  # type: ignore[arg-type]
                receiver.connections_closed += 1

        self.connections_closed = 0
        """Connections this receiver has closed (idle keep-alive timeouts included)."""
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def queue_rows(
    url: str,
    count: int,
    now: datetime,
    *,
    channels: tuple[str, ...] = ("email", "webhook"),
    late: timedelta = timedelta(minutes=1),
    grace: timedelta = timedelta(hours=12),
    prefix: str = "T",
) -> list[str]:
    """Queue ``count`` reminders already due, alternating the channels; returns their keys."""
    rows, keys = [], []
    due = now - late
    for n in range(count):
        channel = channels[n % len(channels)]
        address = f"p{n}@example.org" if channel == "email" else f"+8613800{n:06d}"
        key = idempotency_key("dose", f"{prefix}{n:06d}", "C1D1", due, channel, address)
        keys.append(key)
        rows.append(
            {
                "kind": "dose",
                "subject_id": None,
                "site_id": None,
                "item_key": "C1D1",
                "due_at": due,
                "expires_at": due + grace,
                "channel": channel,
                "address": address,
                "idempotency_key": key,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": due,
                "title": "Dose reminder",
                "body": f"{prefix}{n:06d}, {due.date()}: take your 12 mg dose due at 08:00.",
                "created_at": now,
                "updated_at": now,
            }
        )
    with unit_of_work(get_engine(url), "tester") as unit:
        for start in range(0, len(rows), 1000):
            insert_ignoring_duplicates(unit.session, rows[start : start + 1000])
    return keys
