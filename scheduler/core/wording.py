"""What the core needs of a language to word patient text, without loading any catalogue.

The core does no I/O, so it does not read gettext catalogues itself: a caller passes a
``Wording`` (``scheduler.i18n.wording(language)`` in the application). ``SOURCE`` is the
source language (English, ISO dates) for callers that word nothing for a patient.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from typing import Protocol


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; it is translated where used."""
    return message


class Wording(Protocol):
    language: str

    def gettext(self, message: str) -> str: ...

    def day(self, value: date, /) -> str: ...

    def time(self, value: time, /) -> str: ...

    def enumerate(self, items: Sequence[str], /) -> str: ...


class _Source:
    language = "en"

    def gettext(self, message: str) -> str:
        return message

    def day(self, value: date, /) -> str:
        return value.isoformat()

    def time(self, value: time, /) -> str:
        return f"{value:%H:%M}"

    def enumerate(self, items: Sequence[str], /) -> str:
        return ", ".join(items)


SOURCE: Wording = _Source()
