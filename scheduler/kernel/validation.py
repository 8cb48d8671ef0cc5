"""Checks of raw values that several commands share, each failing with the field named."""

from __future__ import annotations

import re
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.errors import InputError
from scheduler.i18n import LANGUAGES

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
"""A subject, site or protocol code."""
_CODE = re.compile(CODE_PATTERN)
CONTROL_CHARACTERS = r"\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
"""The body of a regular expression's character class (Python's and JSON Schema's alike): control
characters (line breaks aside) and the bidirectional overrides and isolates, which make a
reason read differently on screen from what is stored (U+202E turns text around)."""
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
"""The dates any record, query or plan may name. Wider than any trial needs, and far enough
inside ``date.min``/``date.max`` that the plan, worklist and pharmacy arithmetic (years of
follow-up, look-back and look-ahead days) cannot overflow."""


def parse_date(field: str, value: str | date) -> date:
    """The one date rule of the CLI, the pages and the API: ISO ``YYYY-MM-DD`` only (Python's
    ``date.fromisoformat`` also takes ``20260302`` and ``2026-W10-1``, which people do not mean
    as dates), within ``EARLIEST``..``LATEST``."""
    if isinstance(value, str):
        text = value.strip()
        if not _ISO_DAY.fullmatch(text):
            raise InputError(field, f"{value!r} is not a date (expected YYYY-MM-DD)")
        try:
            value = date.fromisoformat(text)
        except ValueError:
            raise InputError(field, f"{value!r} is not a real date (expected YYYY-MM-DD)") from None
    if not EARLIEST <= value <= LATEST:
        raise InputError(field, f"{value} is outside {EARLIEST.year}-{LATEST.year}")
    return value


def parse_optional_date(field: str, value: str | None) -> date | None:
    """A date option or query parameter that may be left out: absent or blank means the
    caller's default (usually today at the site), anything else must pass ``parse_date``."""
    if value is None or not value.strip():
        return None
    return parse_date(field, value)


def parse_time(field: str, value: str | time) -> time:
    if isinstance(value, time):
        return value
    text = value.strip()
    if not re.fullmatch(r"\d{2}:\d{2}", text):
        raise InputError(field, f"{value!r} is not a time (expected HH:MM, 24-hour)")
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{value!r} is not a time of day (expected HH:MM)") from None


def check_code(field: str, value: str) -> str:
    if not _CODE.fullmatch(value):
        raise InputError(
            field,
            f"{value!r} is not a valid code (1-32 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit)",
        )
    return value


def check_zone(field: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            field, f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)"
        ) from None
    return value


def check_text(field: str, value: str, *, required: bool, limit: int = 500) -> str:
    """Free text a person typed, as they typed it: a control character or a direction override
    is refused rather than silently changed, length is capped, never empty if required."""
    found = _CONTROL.search(value)
    if found:
        raise InputError(
            field, f"contains the control character U+{ord(found.group()):04X}; retype the text"
        )
    cleaned = value.replace("\r\n", "\n").strip()
    if required and not cleaned:
        raise InputError(field, "must not be empty")
    if len(cleaned) > limit:
        raise InputError(field, f"is {len(cleaned)} characters long; the limit is {limit}")
    return cleaned


def not_in_future(field: str, value: date, today: date) -> date:
    if value > today:
        raise InputError(field, f"{value} is in the future (today is {today} at the site)")
    return value


def check_language(value: str, field: str = "language") -> str:
    """A shipped language code (``en``, ``zh_CN``); ``zh-CN`` is read as ``zh_CN``. One rule
    for a subject's language and a staff account's."""
    code = value.strip().replace("-", "_")
    if code not in LANGUAGES:
        raise InputError(field, f"expected one of {', '.join(LANGUAGES)}, got {value!r}")
    return code
