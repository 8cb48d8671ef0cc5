"""The channels one sending thread uses, opened on first use from the settings.

Connections are not shared between threads: each sender keeps its own SMTP connection and HTTP
keep-alive pool, and reuses them for every message of every batch.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from scheduler.clock import Clock
from scheduler.errors import InputError
from scheduler.reminders.channels import (
    Channel,
    ChannelDescriptor,
    Message,
    TemporaryFailure,
    console,
    sms,
    smtp,
    webhook,
)
from scheduler.settings import Settings

ChannelFactory = Callable[[], Channel]

DESCRIPTORS: dict[str, ChannelDescriptor] = {
    d.name: d for d in (smtp.DESCRIPTOR, sms.DESCRIPTOR, webhook.DESCRIPTOR, console.DESCRIPTOR)
}
"""Every channel the system can send through, in the order staff see them."""
CHANNEL_NAMES: tuple[str, ...] = tuple(DESCRIPTORS)


def factories(settings: Settings, clock: Clock) -> dict[str, ChannelFactory]:
    return {name: functools.partial(d.open, settings, clock) for name, d in DESCRIPTORS.items()}


def check_address(channel: str, address: str) -> str:
    """An address the channel can reach, stripped of surrounding spaces."""
    descriptor = DESCRIPTORS.get(channel)
    if descriptor is None:
        raise InputError("channel", f"expected one of {', '.join(CHANNEL_NAMES)}, got {channel!r}")
    address = address.strip()
    if len(address) > descriptor.max_address_length or not re.fullmatch(
        descriptor.address_pattern, address
    ):
        raise InputError("address", f"{address!r} {descriptor.address_help}")
    return descriptor.check(address) if descriptor.check is not None else address


class ChannelSet:
    def __init__(self, makers: dict[str, ChannelFactory]) -> None:
        self._makers = makers
        self._open: dict[str, Channel] = {}

    def send(self, channel: str, message: Message) -> None:
        opened = self._open.get(channel)
        if opened is None:
            maker = self._makers.get(channel)
            if maker is None:
                raise TemporaryFailure(f"no {channel!r} channel in this worker")
            try:
                opened = self._open[channel] = maker()
            except InputError as exc:
                # A configuration mistake: keep retrying so a fixed setting still sends it.
                raise TemporaryFailure(str(exc)) from exc
        opened.send(message)

    def close(self) -> None:
        for opened in self._open.values():
            opened.close()
        self._open.clear()
