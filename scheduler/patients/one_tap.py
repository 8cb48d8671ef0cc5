"""One-tap "I took it" links of dose reminders: signed with the server's secret
(``patient_link_secret``), each for one dose of one subject, expiring when the dose can no
longer be taken (``[limits] late_dose_hours`` after its time, the instant the reminder itself
expires).

A link is ``/tap/<subject id>.<slot key>.<expiry, Unix seconds>.<signature>``: the signature is
an HMAC-SHA256 of the rest, so the link is the same every time the outbox re-derives the
reminder (the body does not change), nothing needs storing to check it, and changing one
character of it voids it. It reports one dose once: the first report of a dose is kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from scheduler.errors import NotFound
from scheduler.settings import LOCAL_BASE_URL, Settings

TAP_PATH = "/tap/"
_SIGNATURE_CHARS = 32


@dataclass(frozen=True)
class TapClaim:
    """What a valid link says: which subject's which dose, valid until when."""

    subject_id: int
    slot_key: str
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def _secret(settings: Settings) -> bytes:
    return settings.patient_link_secret.get_secret_value().encode()


def enabled(settings: Settings) -> bool:
    return bool(_secret(settings))


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:_SIGNATURE_CHARS]


def tap_token(settings: Settings, subject_id: int, slot_key: str, expires_at: datetime) -> str:
    payload = f"{subject_id}.{slot_key}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(_secret(settings), payload)}"


def tap_url(settings: Settings, subject_id: int, slot_key: str, expires_at: datetime) -> str:
    base = (settings.public_base_url or LOCAL_BASE_URL).rstrip("/")
    return f"{base}{TAP_PATH}{tap_token(settings, subject_id, slot_key, expires_at)}"


def read_tap(settings: Settings, token: str) -> TapClaim:
    """The claim of a link signed by this server; a forged or garbled link is NotFound. An
    expired claim is still returned (``expired``): the answer that it expired is then given in
    its subject's language."""
    secret = _secret(settings)
    parts = token.split(".")
    if not secret or len(parts) != 4:
        raise NotFound("token", "no such link")
    subject, slot_key, expiry, signature = parts
    if not hmac.compare_digest(_signature(secret, ".".join(parts[:3])), signature):
        raise NotFound("token", "no such link")
    try:
        claim = TapClaim(int(subject), slot_key, datetime.fromtimestamp(int(expiry), UTC))
    except (ValueError, OverflowError, OSError):
        raise NotFound("token", "no such link") from None
    return claim
