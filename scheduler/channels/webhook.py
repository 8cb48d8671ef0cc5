"""An HTTP webhook, the usual front of an SMS gateway: a JSON POST over a kept-alive connection.

The body is signed with HMAC-SHA256 over ``"<timestamp>.<body>"`` with the shared secret, so the
receiver can check both origin and freshness; the idempotency key is the ``Idempotency-Key``
header (and in the body).
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from scheduler.channels import Message, PermanentFailure, TemporaryFailure
from scheduler.clock import Clock, SystemClock
from scheduler.errors import InputError

SIGNATURE_HEADER = "X-Dosing-Signature"
TIMESTAMP_HEADER = "X-Dosing-Timestamp"
_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "xxx"}
_RETRYABLE = {408, 425, 429}


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The value of the signature header: ``sha256=<hex>``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_secret(secret: str) -> bytes:
    if len(secret) < 16 or secret.lower() in _PLACEHOLDERS:
        raise InputError(
            "webhook_secret", "a webhook needs a shared secret of at least 16 characters"
        )
    return secret.encode()


class WebhookChannel:
    def __init__(
        self, *, url: str, secret: str, timeout: float = 10.0, clock: Clock | None = None
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise InputError("webhook_url", f"expected an http(s) URL, got {url!r}")
        self._url = url
        self._secret = check_secret(secret)
        self._client = httpx.Client(timeout=timeout)
        self._clock = clock or SystemClock()

    def send(self, message: Message) -> None:
        body = json.dumps(
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
        stamp = str(int(self._clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.idempotency_key,
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature(self._secret, stamp, body),
        }
        try:
            response = self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"webhook {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return
        text = f"webhook HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code >= 500 or response.status_code in _RETRYABLE:
            raise TemporaryFailure(text)
        raise PermanentFailure(text)

    def close(self) -> None:
        self._client.close()
