"""The demo channel: a line on standard output per message, so `dosing serve` shows reminders."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from scheduler.reminders.channels import ChannelDescriptor, Message


class ConsoleChannel:
    _lock = threading.Lock()

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: Message) -> None:
        stream = self._stream or sys.stdout
        body = message.body.replace("\n", "\n    ")
        with self._lock:
            stream.write(
                f"reminder [{message.kind}] to {message.to} ({message.idempotency_key}):\n"
                f"    {body}\n"
            )
            stream.flush()

    def close(self) -> None:
        return None


DESCRIPTOR = ChannelDescriptor(
    name="console",
    label="console (demo)",
    address_pattern=r"[A-Za-z0-9_.@+-]{1,64}",
    address_help="is not a label of 1-64 plain characters",
    max_address_length=64,
    open=lambda settings, clock: ConsoleChannel(),
)
