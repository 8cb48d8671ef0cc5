"""The demo channel: a line on standard output per message, so `dosing serve` shows reminders."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from scheduler.channels import Message


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
