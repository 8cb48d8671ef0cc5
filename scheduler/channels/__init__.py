"""Ways a reminder leaves the system: SMTP email, an HTTP webhook (SMS gateways), the console.

A channel either accepts a message (returns) or raises: ``TemporaryFailure`` when trying again
later may work (a timeout, a 5xx, a 4xx SMTP reply), ``PermanentFailure`` when it will not (a
refused recipient, a 4xx from the gateway). Each message carries its idempotency key, so a
receiver can recognise the one duplicate a crash between "accepted" and "marked sent" can cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    idempotency_key: str
    kind: str
    to: str
    title: str
    body: str
    due_at: datetime
    subject_code: str | None = None


class ChannelFailure(Exception):
    """Raised when a channel did not accept a message."""


class TemporaryFailure(ChannelFailure):
    """Raised when the message may be accepted on a later attempt."""


class PermanentFailure(ChannelFailure):
    """Raised when retrying cannot help (the address or the request is refused)."""


class Channel(Protocol):
    def send(self, message: Message) -> None:
        """Return once the receiver accepted the message; raise a ChannelFailure otherwise."""
        ...

    def close(self) -> None: ...
