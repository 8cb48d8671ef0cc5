"""Ways a reminder leaves the system: SMTP email, an SMS gateway, an HTTP webhook, the console.

A channel either accepts a message (returns) or raises: ``TemporaryFailure`` when trying again
later may work (a timeout, a 5xx, a 4xx SMTP reply), ``PermanentFailure`` when it will not (a
refused recipient, a 4xx from the gateway). Each message carries its idempotency key, so a
receiver can recognise the one duplicate a crash between "accepted" and "marked sent" can cause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from scheduler.clock import Clock
    from scheduler.settings import Settings


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDescriptor:
    """Everything the rest of the system knows of a channel, declared once in its own module:
    a new channel is its module, one line in the registry, and its settings."""

    name: str
    """Stored in reminder rows and preferences, and typed by staff; never renamed."""
    label: str
    """What a nurse reads in the channel list."""
    address_pattern: str
    """A full-match regular expression for the addresses this channel can reach."""
    address_help: str
    """Why an address was refused: what it should look like."""
    max_address_length: int
    open: Callable[[Settings, Clock], Channel]
    """Opens the channel from the settings of the worker that sends."""
    check: Callable[[str], str] | None = None
    """A further check of an address that matched the pattern (a phone number that exists):
    the address to store, or ``InputError`` naming ``address``."""
