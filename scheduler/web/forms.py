"""The one way a form's text becomes a typed value, strictly and before any service sees it.

``int()`` and ``float()`` accept "1_0", "+1", surrounding spaces and other scripts' digits;
a clinical record must not, so every page reads numbers, dates and times through here. Dates
and times use the kernel's parsers, the same as the CLI and the API.
"""

from __future__ import annotations

import re
from datetime import date, time

from scheduler.errors import InputError
from scheduler.kernel.validation import parse_date, parse_time

_MG = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")


def whole(field: str, value: str, *, digits: int = 6) -> int:
    """ASCII digits only, at most ``digits`` of them (9 keeps a record id inside 32 bits)."""
    text = value.strip()
    if not re.fullmatch(f"[0-9]{{1,{digits}}}", text):
        raise InputError(field, f"{value!r} is not a whole number")
    return int(text)


def optional_whole(field: str, value: str, *, digits: int = 6) -> int | None:
    return whole(field, value, digits=digits) if value.strip() else None


def milligrams(field: str, value: str) -> float:
    text = value.strip()
    if not _MG.fullmatch(text):
        raise InputError(field, f"{value!r} is not a strength in mg")
    return float(text)


def optional_milligrams(field: str, value: str) -> float | None:
    return milligrams(field, value) if value.strip() else None


def day(field: str, value: str) -> date:
    return parse_date(field, value)


def clock_time(field: str, value: str) -> time:
    return parse_time(field, value)
