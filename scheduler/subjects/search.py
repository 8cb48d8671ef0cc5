"""Finding a subject by code from the search box every page carries: a nurse types "014" or
"s-01" and gets the subjects whose code contains it, within the sites her account sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from scheduler.kernel.sites import site_scope
from scheduler.kernel.validation import check_text
from scheduler.models import Site, Subject

SEARCH_LIMIT = 50
"""More matches than a page can usefully list: the nurse types more of the code."""


@dataclass(frozen=True)
class Found:
    code: str
    site: str
    c1d1: date


@dataclass(frozen=True)
class SearchResult:
    text: str
    found: list[Found]
    more: bool
    """More subjects matched than are listed."""

    def only(self) -> str | None:
        """The code to go straight to: the one match, or a match of the whole code."""
        exact = [f.code for f in self.found if f.code.lower() == self.text.lower()]
        if exact:
            return exact[0]
        return self.found[0].code if len(self.found) == 1 and not self.more else None


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_subjects(session: Session, text: str) -> SearchResult:
    """Subjects whose code contains ``text`` (any case), in code order, at most
    ``SEARCH_LIMIT`` of them; only the sites the session may see."""
    text = check_text("q", text, required=True).strip()
    query = (
        select(col(Subject.code), col(Site.code), col(Subject.c1d1))
        .join(Site, col(Site.id) == col(Subject.site_id))
        .where(func.lower(Subject.code).like(_like_pattern(text), escape="\\"))
        .order_by(col(Subject.code))
        .limit(SEARCH_LIMIT + 1)
    )
    scope = site_scope(session)
    if scope is not None:
        query = query.where(col(Subject.site_id).in_(scope))
    rows = session.exec(query).all()
    found = [Found(code, site, c1d1) for code, site, c1d1 in rows[:SEARCH_LIMIT]]
    return SearchResult(text, found, more=len(rows) > SEARCH_LIMIT)
