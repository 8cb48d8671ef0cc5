"""Where a pharmacy form was posted from: a refusal re-renders that page, success goes back to
it. Numbers and dates are read by the shared form kit (``scheduler.web.forms``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form

Text = Annotated[str, Form()]


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
