"""What the pharmacy pages receive, read strictly before any service sees it: dates within the
years a trial record can have, whole capsule counts, capsule strengths, and the page a form was
posted from (a refusal re-renders that page; success goes back to it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form

from scheduler.errors import InputError

_WHOLE = re.compile(r"[0-9]{1,6}")
_MG = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")

Text = Annotated[str, Form()]


def whole(field: str, value: str) -> int:
    """Digits only: ``int()`` would also take "1_0", "+1" and other scripts' digits."""
    text = value.strip()
    if not _WHOLE.fullmatch(text):
        raise InputError(field, f"{value!r} is not a whole number")
    return int(text)


def milligrams(field: str, value: str) -> float:
    text = value.strip()
    if not _MG.fullmatch(text):
        raise InputError(field, f"{value!r} is not a strength in mg")
    return float(text)


@dataclass(frozen=True)
class Filters:
    """The preparation list's query as it was typed, kept raw so that a form posted from the
    list goes back to the very same list."""

    site: str = ""
    start: str = ""
    end: str = ""

    def url(self, **extra: str) -> str:
        shown = {"site": self.site, "start": self.start, "end": self.end}
        query = {name: value for name, value in shown.items() if value} | extra
        return "/pharmacy" + (f"?{urlencode(query)}" if query else "")


@dataclass(frozen=True)
class Origin:
    """Where a form was posted from: the preparation list with its filters, or (``filters``
    None) a subject's accountability page. ``form`` is the form's id there, where a refusal is
    shown next to the field."""

    form: str
    filters: Filters | None


def posted_from(
    form: Text = "", page: Text = "list", site: Text = "", start: Text = "", end: Text = ""
) -> Origin:
    return Origin(form, None if page == "subject" else Filters(site, start, end))


PostedFrom = Annotated[Origin, Depends(posted_from)]
