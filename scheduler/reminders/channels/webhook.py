"""An HTTP webhook, the usual front of an SMS gateway: a JSON POST over a kept-alive connection.

The body is signed with HMAC-SHA256 over ``"<timestamp>.<body>"`` with the shared secret, so the
receiver can check both origin and freshness; the idempotency key is the ``Idempotency-Key``
header (and in the body).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import select
import socket
import ssl
from urllib.parse import urlsplit

from scheduler.clock import Clock, SystemClock
from scheduler.errors import InputError
from scheduler.reminders.channels import (
    ChannelDescriptor,
    Message,
    PermanentFailure,
    TemporaryFailure,
)
from scheduler.settings import Settings

SIGNATURE_HEADER = "X-Dosing-Signature"
TIMESTAMP_HEADER = "X-Dosing-Timestamp"
_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "xxx"}
_RETRYABLE = {401, 403, 408, 425, 429}
"""Besides 5xx: a refused signature or credential (the settings are wrong, not the message:
retried until someone fixes them), a timeout, too early, too many requests."""


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The value of the signature header: ``sha256=<hex>``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_secret(secret: str, field: str = "webhook_secret") -> bytes:
    if len(secret) < 16 or secret.lower() in _PLACEHOLDERS:
        raise InputError(field, "a webhook needs a shared secret of at least 16 characters")
    return secret.encode()


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the receiver closed it."""
    if hasattr(select, "poll"):
        poller = select.poll()  # no limit on descriptor numbers, unlike select()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


class WebhookChannel:
    """One kept-alive HTTP(S) connection (the standard library's ``http.client``: a send costs a
    third of what a general client costs, and a sender thread makes thousands). It connects
    directly to the URL; proxy variables of the environment are not consulted."""

    setting = "webhook"
    """The prefix of the settings that configure it, named by a configuration error."""

    def __init__(
        self, *, url: str, secret: str, timeout: float = 10.0, clock: Clock | None = None
    ) -> None:
        parts = urlsplit(url)
        field = f"{self.setting}_url"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(field, f"expected an http(s) URL, got {url!r}")
        try:
            port = parts.port
        except ValueError as exc:
            raise InputError(field, f"{url!r} has no valid port") from exc
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._secret = check_secret(secret, f"{self.setting}_secret")
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._clock = clock or SystemClock()

    def _connect(self) -> tuple[http.client.HTTPConnection, bool]:
        """The open connection (and True) if the receiver has not closed it since the last
        request, else a new one (and False)."""
        connection = self._connection
        if connection is not None and connection.sock is not None:
            if not _readable(connection.sock):
                return connection, True
            self._drop()  # closed by the receiver while idle (or it sent something unasked)
        if self._https:
            context = ssl.create_default_context()
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=context
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        self._connection = connection
        return connection, False

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _body(self, message: Message) -> bytes:
        return json.dumps(
            {
                "idempotency_key": message.idempotency_key,
                "kind": message.kind,
                "to": message.to,
                "subject": message.subject_code,
                "date": message.due_at.date().isoformat(),
                "text": message.body,
            },
            separators=(",", ":"),
        ).encode()

    def send(self, message: Message) -> None:
        body = self._body(message)
        stamp = str(int(self._clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.idempotency_key,
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature(self._secret, stamp, body),
        }
        for attempt in (1, 2):
            connection, reused = self._connect()
            try:
                connection.request("POST", self._target, body=body, headers=headers)
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                if reused and attempt == 1:
                    continue  # the request did not get out on a reused connection: once more
                raise TemporaryFailure(f"{self.setting} {type(exc).__name__}: {exc}") from exc
            try:
                response = connection.getresponse()
                reply = response.read()
            except (OSError, http.client.HTTPException) as exc:
                # Sent, but no answer: the receiver may have it; the retry carries the same key.
                self._drop()
                raise TemporaryFailure(f"{self.setting} {type(exc).__name__}: {exc}") from exc
            if response.will_close:
                self._drop()
            break
        status = response.status
        if 200 <= status < 300:
            return
        text = f"{self.setting} HTTP {status}: {reply[:200].decode(errors='replace')}"
        if status >= 500 or status in _RETRYABLE:
            raise TemporaryFailure(text)
        raise PermanentFailure(text)

    def close(self) -> None:
        self._drop()


def _open(settings: Settings, clock: Clock) -> WebhookChannel:
    if not settings.webhook_url:
        raise InputError("webhook_url", "no webhook is configured (DOSING_WEBHOOK_URL)")
    return WebhookChannel(
        url=settings.webhook_url,
        secret=settings.webhook_secret.get_secret_value(),
        timeout=settings.webhook_timeout_seconds,
        clock=clock,
    )


DESCRIPTOR = ChannelDescriptor(
    name="webhook",
    label="webhook (JSON POST, e.g. an SMS gateway adapter)",
    address_pattern=r"\+[1-9][0-9]{6,14}",
    address_help="is not a phone number in E.164 form (e.g. +8613800000000)",
    max_address_length=16,
    open=_open,
)
