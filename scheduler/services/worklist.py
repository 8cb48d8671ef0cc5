"""The research nurse's list for one day: who is due, what is overdue, what needs a decision.

Answered by indexed queries on the derived rows (``scheduler.services.worklist_rows``), never by
building every plan: a site with 10,000 subjects answers in milliseconds. One query per kind of
item, each on an index whose leading column is the site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Date, Executable, Integer, bindparam, false, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from scheduler.clock import local_today
from scheduler.models import (
    Day1Check,
    MissedDose,
    ScheduledVisit,
    Site,
    StandingItem,
    SubjectStatus,
)
from scheduler.services.sites import get_site
from scheduler.services.worklist_rows import backfill, missing_rows

ItemKind = Literal[
    "visit_overdue",
    "visit_due",
    "day1_check",
    "missed_doses",
    "proposal",
    "visit_in_window",
    "on_hold",
    "unrecorded_doses",
    "drug_discrepancy",
]
Urgency = Literal["overdue", "today", "window", "watch"]
URGENCY_TITLES: dict[str, str] = {
    "overdue": "Overdue or needs a decision",
    "today": "Today",
    "window": "Window open",
    "watch": "Keep an eye on",
}
"""The groups of the list, most urgent first."""
_RANK = {u: i for i, u in enumerate(URGENCY_TITLES)}
MISSED_DAYS = 3
"""Missed doses on the chosen day or the two before it are listed."""
DAY1_LOOKAHEAD_DAYS = 3
"""Cycle day 1 visits up to this many days ahead are checked for day-1 criteria."""
UNRECORDED_AFTER_DAYS = 7
"""A dose without a record is listed once it is this many days old: diaries are entered at
visits and calls, so a few days' gap is normal and would list nearly every subject."""


@dataclass(frozen=True)
class WorkItem:
    subject: str
    site: str
    kind: str
    what: str
    detail: str
    target: date | None = None
    window_start: date | None = None
    window_end: date | None = None
    visit_code: str | None = None
    dose_mg: float | None = None
    urgency: Urgency = "watch"


@dataclass(frozen=True)
class Worklist:
    """One site's list for one day."""

    site: str
    date: date
    items: list[WorkItem] = field(default_factory=list)

    def groups(self) -> list[tuple[str, list[WorkItem]]]:
        """(title, items) per urgency, most urgent first, empty groups left out."""
        return [
            (title, [i for i in self.items if i.urgency == urgency])
            for urgency, title in URGENCY_TITLES.items()
            if any(i.urgency == urgency for i in self.items)
        ]


_V = ScheduledVisit
_S = SubjectStatus
_SITE = bindparam("site", type_=Integer)
_DAY = bindparam("day", type_=Date)
_BY_SUBJECT = col(_S.subject_id) == col(_V.subject_id)
_OPEN_VISITS = (
    select(
        col(_S.code),
        col(_V.visit_code),
        col(_V.name),
        col(_V.target),
        col(_V.window_start),
        col(_V.window_end),
        col(_V.dose_mg),
    )
    .join(_S, _BY_SUBJECT)
    .where(
        col(_V.site_id) == _SITE,
        col(_V.done) == false(),
        col(_V.window_start) <= _DAY,
        col(_V.tentative) == false(),
    )
)
_ON_HOLD = select(
    col(_S.code), col(_S.hold_start), col(_S.hold_reason), col(_S.max_hold_days), col(_S.dose_mg)
).where(
    col(_S.site_id) == _SITE,
    col(_S.hold_start).is_not(None),
    col(_S.hold_start) <= _DAY,
    or_(col(_S.hold_end).is_(None), col(_S.hold_end) > _DAY),
)
_MISSED = (
    select(
        col(_S.code),
        func.count(),
        func.min(col(MissedDose.dose_date)),
        func.max(col(MissedDose.dose_date)),
        func.min(col(MissedDose.dose_mg)),
    )
    .join(_S, col(_S.subject_id) == col(MissedDose.subject_id))
    .where(
        col(MissedDose.site_id) == _SITE,
        col(MissedDose.dose_date) >= bindparam("missed_from", type_=Date),
        col(MissedDose.dose_date) <= _DAY,
    )
    .group_by(col(_S.code))
)
_CHECKS = aliased(Day1Check)
_LATEST_CHECK = (
    select(func.max(_CHECKS.id))
    .where(col(_CHECKS.subject_id) == col(_V.subject_id), col(_CHECKS.cycle) == col(_V.day1_cycle))
    .correlate(_V)
    .scalar_subquery()
)
"""The latest day-1 check of the subject and cycle: the one that counts."""
_DAY1_UNCONFIRMED = (
    select(
        col(_S.code),
        col(_V.day1_cycle),
        col(_V.visit_code),
        col(_V.target),
        col(_V.window_start),
        col(_V.window_end),
        col(_V.dose_mg),
        col(Day1Check.met),
        col(Day1Check.reason),
    )
    .join(_S, _BY_SUBJECT)
    .outerjoin(Day1Check, col(Day1Check.id) == _LATEST_CHECK)
    .where(
        col(_V.site_id) == _SITE,
        col(_V.target) >= _DAY,
        col(_V.target) <= bindparam("day1_until", type_=Date),
        col(_V.day1_cycle).is_not(None),
        col(_V.done) == false(),
        col(_V.tentative) == false(),
        or_(col(Day1Check.id).is_(None), col(Day1Check.met) == false()),
    )
)
_UNRECORDED = select(col(_S.code), col(_S.first_unrecorded_dose), col(_S.dose_mg)).where(
    col(_S.site_id) == _SITE,
    col(_S.first_unrecorded_dose).is_not(None),
    col(_S.first_unrecorded_dose) < bindparam("unrecorded_before", type_=Date),
)
_STANDING = (
    select(
        col(_S.code),
        col(StandingItem.kind),
        col(StandingItem.what),
        col(StandingItem.detail),
        col(_S.dose_mg),
    )
    .join(_S, col(_S.subject_id) == col(StandingItem.subject_id))
    .where(col(StandingItem.site_id) == _SITE)
)


def _rows(session: Session, query: Executable, params: dict[str, Any]) -> list[Any]:
    """Plain rows through the session's connection (same transaction), without the ORM's
    result machinery: a busy site's list has thousands of them. The statements are built once,
    at import, so each call is a cache hit with new parameters."""
    return list(session.connection().execute(query, params).all())


def _visit_items(session: Session, site_code: str, params: dict[str, Any]) -> list[WorkItem]:
    day: date = params["day"]
    items = []
    urgency: Urgency
    for code, visit_code, name, target, start, end, dose in _rows(session, _OPEN_VISITS, params):
        if target == day:
            kind, urgency, detail = "visit_due", "today", name
        elif end < day:
            late = (day - end).days
            kind, urgency = "visit_overdue", "overdue"
            detail = f"{name}: window closed {late} d ago"
        else:
            left = (end - day).days
            kind, urgency, detail = "visit_in_window", "window", f"{name}: {left} d left"
        items.append(
            WorkItem(
                subject=code,
                site=site_code,
                kind=kind,
                what=visit_code,
                detail=detail,
                target=target,
                window_start=start,
                window_end=end,
                visit_code=visit_code,
                dose_mg=dose,
                urgency=urgency,
            )
        )
    return items


def _hold_items(session: Session, site_code: str, params: dict[str, Any]) -> list[WorkItem]:
    day: date = params["day"]
    items = []
    for code, start, reason, limit, dose in _rows(session, _ON_HOLD, params):
        days = (day - start).days + 1
        beyond = days > limit
        detail = f"since {start}: {reason}; day {days} of at most {limit}"
        if beyond:
            detail += ": beyond the limit, discontinuation proposed"
        items.append(
            WorkItem(
                subject=code,
                site=site_code,
                kind="on_hold",
                what=f"{days} of {limit} days",
                detail=detail,
                target=start,
                dose_mg=dose,
                urgency="overdue" if beyond else "watch",
            )
        )
    return items


def _missed_items(session: Session, site_code: str, params: dict[str, Any]) -> list[WorkItem]:
    return [
        WorkItem(
            subject=code,
            site=site_code,
            kind="missed_doses",
            what=f"{count} missed",
            detail=f"missed dose{'s' if count > 1 else ''} {low}"
            + (f" to {high}" if high != low else ""),
            target=high,
            dose_mg=dose,
            urgency="today",
        )
        for code, count, low, high, dose in _rows(session, _MISSED, params)
    ]


def _day1_items(session: Session, site_code: str, params: dict[str, Any]) -> list[WorkItem]:
    return [
        WorkItem(
            subject=code,
            site=site_code,
            kind="day1_check",
            what=f"cycle {cycle}",
            detail=(
                "day-1 criteria not yet confirmed"
                if met is None
                else f"day-1 criteria not met: {reason}"
            ),
            target=target,
            window_start=start,
            window_end=end,
            visit_code=visit_code,
            dose_mg=dose,
            urgency="today",
        )
        for code, cycle, visit_code, target, start, end, dose, met, reason in _rows(
            session, _DAY1_UNCONFIRMED, params
        )
    ]


def _status_items(session: Session, site_code: str, params: dict[str, Any]) -> list[WorkItem]:
    return [
        WorkItem(
            subject=code,
            site=site_code,
            kind="unrecorded_doses",
            what="diary",
            detail=f"no dose record since {first}",
            target=first,
            dose_mg=dose,
        )
        for code, first, dose in _rows(session, _UNRECORDED, params)
    ]


def _standing_items(session: Session, site_code: str, params: dict[str, Any]) -> list[WorkItem]:
    return [
        WorkItem(
            subject=code,
            site=site_code,
            kind=kind,
            what=what,
            detail=detail,
            dose_mg=dose,
            urgency="overdue" if kind == "proposal" else "watch",
        )
        for code, kind, what, detail, dose in _rows(session, _STANDING, params)
    ]


def _sort_key(item: WorkItem) -> tuple[int, date, str, str]:
    return (
        _RANK[item.urgency],
        item.window_end or item.target or date.min,
        item.subject,
        item.kind,
    )


def site_worklist(session: Session, now: datetime, site: Site, on: date | None = None) -> Worklist:
    """One site's list for ``on`` (default: today in the site's zone)."""
    day = on or local_today(now, site.time_zone)
    params = {
        "site": site.id,
        "day": day,
        "day1_until": day + timedelta(days=DAY1_LOOKAHEAD_DAYS),
        "missed_from": day - timedelta(days=MISSED_DAYS - 1),
        "unrecorded_before": day - timedelta(days=UNRECORDED_AFTER_DAYS),
    }
    code = site.code
    items = [
        *_visit_items(session, code, params),
        *_day1_items(session, code, params),
        *_missed_items(session, code, params),
        *_hold_items(session, code, params),
        *_status_items(session, code, params),
        *_standing_items(session, code, params),
    ]
    items.sort(key=_sort_key)
    return Worklist(site=site.code, date=day, items=items)


def worklists(
    session: Session, now: datetime, *, site_code: str | None = None, on: date | None = None
) -> list[Worklist]:
    """The list of one site, or of every site (each on its own today unless ``on`` is given).

    Subjects enrolled before the worklist tables existed get their rows here on first use (the
    session's transaction commits them); ``dosing init`` does the same up front.
    """
    if site_code is not None:
        sites = [get_site(session, site_code)]
    else:
        sites = list(session.execute(select(Site).order_by(col(Site.code))).scalars())
    if missing_rows(session, sites[0].id if site_code is not None else None):
        backfill(session, now)
    return [site_worklist(session, now, site, on) for site in sites]


def worklist(
    session: Session, now: datetime, *, site_code: str | None = None, on: date | None = None
) -> list[WorkItem]:
    """Every item of :func:`worklists`, most urgent first within each site."""
    return [item for w in worklists(session, now, site_code=site_code, on=on) for item in w.items]
