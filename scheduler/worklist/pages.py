"""HTML pages for staff: the nurse's worklist."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from scheduler.errors import InputError
from scheduler.kernel.actors import NURSE_ACTIONS
from scheduler.kernel.sites import visible_sites
from scheduler.kernel.validation import parse_optional_date
from scheduler.web.deps import CurrentStaff, UnitDep
from scheduler.web.rendering import TEMPLATES
from scheduler.worklist.items import Worklist, worklists
from scheduler.worklist.work_item import WorkItem

router = APIRouter(include_in_schema=False)

GROUP_ROWS = 10
"""Items each urgency group shows when the page holds more than one site's list, most urgent
first; the group says how many more there are and links to its site's own page. Every site's
6,000 rows took some 200 ms to render into 2 MB, more than anyone reads on one page, and
building them some 60 ms more: such a page draws only these (``worklists(first=...)``). One
site's page, the CLI and the API have every item."""


@dataclass(frozen=True)
class Group:
    """One urgency group as the page shows it: its first items and how many it has in all."""

    title: str
    items: list[WorkItem]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class SiteList:
    """One site's list on the page, with the address of that site's complete list of the day."""

    worklist: Worklist
    groups: list[Group]
    full: str


def _site_lists(lists: list[Worklist]) -> list[SiteList]:
    return [
        SiteList(
            w,
            [Group(title, items, total) for title, items, total in w.counted_groups()],
            "/?" + urlencode({"site": w.site, "date": w.date.isoformat()}),
        )
        for w in lists
    ]


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    unit: UnitDep,
    staff: CurrentStaff,
    site: str | None = None,
    date: str | None = None,
) -> Response:
    """The nurse's worklist: one site (or every site) on one day, most urgent first. A date or
    site that cannot be shown is said next to its picker, with the pickers as typed, so the
    nurse corrects it where she typed it."""
    lists: list[Worklist] = []
    error: InputError | None = None
    sites = visible_sites(unit.session)
    first = GROUP_ROWS if not site and len(sites) > 1 else None
    try:
        day = parse_optional_date("date", date)
        lists = worklists(unit.session, unit.now, site_code=site or None, on=day, first=first)
    except InputError as exc:
        day, error = None, exc
    context = {
        "lists": _site_lists(lists),
        "sites": sites,
        "site": site or "",
        "day": day,
        "typed_date": date or "",
        "error": error,
        "may_record": staff.role in NURSE_ACTIONS,
    }
    status = error.http_status if error else 200
    return TEMPLATES.TemplateResponse(request, "worklist.html", context, status_code=status)
