"""The research nurse's list for one day: who is due, what is overdue, what needs a decision.

Answered by indexed queries on the derived rows (``scheduler.worklist.rows``), never by
building every plan: a site with 10,000 subjects answers in milliseconds. One query per kind of
item, each on an index whose leading column is the site (and, for visits, partial on the open
ones and covering: the list is read from the index alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Date,
    Executable,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    collate,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from scheduler.clock import local_today
from scheduler.core.limits import hold_limit_passed
from scheduler.core.plan import mg_number
from scheduler.kernel.sites import get_site, visible_sites
from scheduler.models import (
    Day1Check,
    LabWorkItem,
    MissedDose,
    PatientWorkItem,
    ScheduledVisit,
    Site,
    StandingItem,
    SubjectStatus,
)
from scheduler.models.columns import UtcDateTime
from scheduler.signatures.records import Unsigned, first_unsigned, unsigned_records
from scheduler.worklist.rows import DAY1_LOOKAHEAD_DAYS, backfill, missing_rows
from scheduler.worklist.work_item import URGENCY_TITLES, ItemKind, Urgency, WorkItem

MISSED_DAYS = 3
"""Missed doses on the chosen day or the two before it are listed."""
UNRECORDED_AFTER_DAYS = 7
"""A dose without a record is listed once it is this many days old: diaries are entered at
visits and calls, so a few days' gap is normal and would list nearly every subject."""


@dataclass(frozen=True)
class Worklist:
    """One site's list for one day."""

    site: str
    date: date
    items: list[WorkItem] = field(default_factory=list)
    totals: dict[Urgency, int] = field(default_factory=dict)
    """Items each urgency group has in all: more than ``items`` holds of it when the list was
    drawn with only each group's first items (``worklists(first=...)``)."""

    def groups(self) -> list[tuple[str, list[WorkItem]]]:
        """(title, items) per urgency, most urgent first, empty groups left out."""
        return [(title, items) for title, items, _ in self.counted_groups()]

    def counted_groups(self) -> list[tuple[str, list[WorkItem], int]]:
        """(title, items, items in all) per urgency, most urgent first, empty groups left out."""
        return [
            (title, [i for i in self.items if i.urgency == urgency], total)
            for urgency, title in URGENCY_TITLES.items()
            if (total := self.totals.get(urgency, 0))
        ]


"""WorkItem(subject, site, kind, what, detail, target, window_start, window_end, visit_code,
dose_mg, urgency), all positional: a busy site's list builds thousands of items, and the
dataclass's own frozen ``__init__`` costs more than the query that found them."""

_V = ScheduledVisit
_S = SubjectStatus
_SITES = bindparam("sites", expanding=True, type_=Integer)
"""The sites whose lists are drawn together (those sharing the day: one query per kind)."""
_DAY = bindparam("day", type_=Date)
_BY_SUBJECT = col(_S.subject_id) == col(_V.subject_id)
_VISIT_COLUMNS: tuple[Any, ...] = (
    col(_V.visit_code),
    col(_V.name),
    col(_V.target),
    col(_V.window_start),
    col(_V.window_end),
    col(_V.dose_mg),
)
"""What a visit item shows, after its site and subject code (``_visit_item``)."""
_STARTED_OPEN = (
    col(_V.done) == false(),
    col(_V.window_start) <= _DAY,
    col(_V.tentative) == false(),
)
"""Open visits whose window has opened by the day: the terms the partial open-visit indexes
repeat, as SQLite needs them written to use one."""
_OPEN_VISITS = (
    select(col(_V.site_id), col(_S.code), *_VISIT_COLUMNS)
    .join(_S, _BY_SUBJECT)
    .where(col(_V.site_id).in_(_SITES), *_STARTED_OPEN)
)
_VISIT_URGENCY = case(
    (col(_V.target) == _DAY, literal_column("'today'")),
    (col(_V.window_end) < _DAY, literal_column("'overdue'")),
    else_=literal_column("'window'"),
)
"""As ``_visit_items`` tells them apart (the kind follows: one per urgency). The words are
written into the statement, not bound: a bound value is a new parameter each time it appears,
and an expression repeated with other parameters would no longer read as the same one."""


_URGENCY_WHERE: dict[Urgency, Any] = {
    "today": and_(col(_V.target) == _DAY, col(_V.window_end) >= _DAY),
    "overdue": and_(col(_V.window_end) < _DAY, col(_V.target) != _DAY),
    "window": and_(col(_V.window_end) >= _DAY, col(_V.target) != _DAY),
}
"""Each urgency group of the open visits, as ``_VISIT_URGENCY`` tells them apart, each a range
of the window's end (a visit's target lies in its window), so that the ranked index serves
all three. The page of every site reads the first visits of each (``_head``): about as many
rows as it shows, where ranking every open visit of every site read thousands."""


def _head(urgency: Urgency, site: Any) -> Select[Any]:
    """The first ``first`` open visits of one urgency group of ``site`` (a site id column or
    bound value), in the order of ``ix_scheduledvisit_open_ranked``: window end, subject code,
    visit code, as ``_sort_key`` orders them (the codes by code point, as Python compares
    them: the columns are so collated). The order is the index's own, so the database stops
    at the ``first``-th row, whatever plan it keeps for the statement."""
    return (
        select(
            col(_V.site_id),
            col(_V.code),
            *_VISIT_COLUMNS,
            literal_column(f"'{urgency}'", String).label("urgency"),
        )
        .where(col(_V.site_id) == site, *_STARTED_OPEN, _URGENCY_WHERE[urgency])
        .order_by(col(_V.window_end), col(_V.code), col(_V.visit_code))
        .limit(bindparam("first", type_=Integer))
    )


def _lateral_heads() -> CompoundSelect[Any]:
    """PostgreSQL's: each group's head for each site of ``site_ids`` (an array), through
    ``LATERAL``: three small subqueries planned once, each run per site."""
    heads = []
    for urgency in _URGENCY_WHERE:
        site = (
            func.unnest(bindparam("site_ids", type_=ARRAY(Integer)))
            .table_valued("site_id")
            .render_derived()
        )
        head = _head(urgency, site.c.site_id).lateral()
        heads.append(select(*head.c).select_from(site).join(head, true()))
    return union_all(*heads)


_LATERAL_HEADS = _lateral_heads()


@lru_cache(maxsize=32)
def _site_heads(sites: int) -> CompoundSelect[Any]:
    """SQLite's (which knows no ``LATERAL``): the heads of ``sites`` sites, bound as ``site_0``,
    ``site_1`` ..., one subquery per site and group."""
    heads = []
    for index in range(sites):
        for urgency in _URGENCY_WHERE:
            head = _head(urgency, bindparam(f"site_{index}", type_=Integer)).subquery()
            heads.append(select(*head.c))
    return union_all(*heads)


_GROUPED_VISITS = (
    select(col(_V.site_id), _VISIT_URGENCY.label("urgency"))
    .where(col(_V.site_id).in_(_SITES), *_STARTED_OPEN)
    .subquery()
)
_OPEN_VISIT_COUNTS = select(
    _GROUPED_VISITS.c.site_id, _GROUPED_VISITS.c.urgency, func.count()
).group_by(_GROUPED_VISITS.c.site_id, _GROUPED_VISITS.c.urgency)
"""How many open visits each site's urgency groups have, read from ``ix_scheduledvisit_open``
alone."""
_ON_HOLD = select(
    col(_S.site_id),
    col(_S.code),
    col(_S.hold_start),
    col(_S.hold_reason),
    col(_S.max_hold_days),
    col(_S.dose_mg),
).where(
    col(_S.site_id).in_(_SITES),
    col(_S.hold_start).is_not(None),
    col(_S.hold_start) <= _DAY,
    or_(col(_S.hold_end).is_(None), col(_S.hold_end) > _DAY),
)
_MISSED = (
    select(
        col(MissedDose.site_id),
        col(_S.code),
        func.count(),
        func.min(col(MissedDose.dose_date)),
        func.max(col(MissedDose.dose_date)),
        func.min(col(MissedDose.dose_mg)),
    )
    .join(_S, col(_S.subject_id) == col(MissedDose.subject_id))
    .where(
        col(MissedDose.site_id).in_(_SITES),
        col(MissedDose.dose_date) >= bindparam("missed_from", type_=Date),
        col(MissedDose.dose_date) <= _DAY,
    )
    .group_by(col(MissedDose.site_id), col(_S.code))
)
_CHECKS = aliased(Day1Check)
_LATEST_CHECK = (
    select(col(_CHECKS.id))
    .where(col(_CHECKS.subject_id) == col(_V.subject_id), col(_CHECKS.cycle) == col(_V.day1_cycle))
    .order_by(col(_CHECKS.assessed_on).desc(), col(_CHECKS.id).desc())
    .limit(1)
    .correlate(_V)
    .scalar_subquery()
)
"""The day-1 check of the subject and cycle that counts: the latest assessed, and of one day
the latest recorded."""
_DAY1_UNCONFIRMED = (
    select(
        col(_V.site_id),
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
        col(_V.site_id).in_(_SITES),
        col(_V.target) >= _DAY,
        col(_V.target) <= bindparam("day1_until", type_=Date),
        col(_V.day1_cycle).is_not(None),
        col(_V.done) == false(),
        col(_V.tentative) == false(),
        or_(col(Day1Check.id).is_(None), col(Day1Check.met) == false()),
    )
)


def _first_day1_checks(collation: str | None) -> Select[Any]:
    """The unconfirmed day-1 checks that head each site's "today" group, at most ``first`` of
    them, with their count, ranked as ``_sort_key`` orders them (window end, subject code,
    "cycle N" as text), by code point as for the open visits."""

    def text(column: Any) -> Any:
        return collate(column, collation) if collation else column

    checks = _DAY1_UNCONFIRMED.subquery()
    what = literal_column("'cycle '", String) + cast(checks.c.day1_cycle, String)
    window = {
        "partition_by": (checks.c.site_id,),
        "order_by": (checks.c.window_end, text(checks.c.code), text(what)),
    }
    ranked = select(
        *checks.c,
        func.row_number().over(**window).label("rank"),  # type: ignore[arg-type]
        func.count().over(**window, rows=(None, None)).label("total"),  # type: ignore[arg-type]
    ).subquery()
    return select(*ranked.c).where(ranked.c.rank <= bindparam("first", type_=Integer))


_FIRST_DAY1_CHECKS = {"sqlite": _first_day1_checks(None), "postgresql": _first_day1_checks("C")}
_UNRECORDED = select(
    col(_S.site_id), col(_S.code), col(_S.first_unrecorded_dose), col(_S.dose_mg)
).where(
    col(_S.site_id).in_(_SITES),
    col(_S.first_unrecorded_dose).is_not(None),
    col(_S.first_unrecorded_dose) < bindparam("unrecorded_before", type_=Date),
)
_STANDING = (
    select(
        col(StandingItem.site_id),
        col(_S.code),
        col(StandingItem.kind),
        col(StandingItem.what),
        col(StandingItem.detail),
        col(_S.dose_mg),
    )
    .join(_S, col(_S.subject_id) == col(StandingItem.subject_id))
    .where(
        col(StandingItem.site_id).in_(_SITES),
        or_(col(StandingItem.shown_from).is_(None), col(StandingItem.shown_from) <= _DAY),
        or_(col(StandingItem.shown_until).is_(None), col(StandingItem.shown_until) >= _DAY),
    )
)
_LAB = (
    select(
        col(LabWorkItem.site_id),
        col(_S.code),
        col(LabWorkItem.kind),
        col(LabWorkItem.what),
        col(LabWorkItem.detail),
        col(LabWorkItem.shown_from),
        col(_S.dose_mg),
    )
    .join(_S, col(_S.subject_id) == col(LabWorkItem.subject_id))
    .where(col(LabWorkItem.site_id).in_(_SITES), col(LabWorkItem.shown_from) <= _DAY)
)
"""Items the labs projection derives from results and adverse events (``scheduler.labs``)."""
_PATIENT = (
    select(
        col(PatientWorkItem.site_id),
        col(_S.code),
        col(PatientWorkItem.kind),
        col(PatientWorkItem.what),
        col(PatientWorkItem.detail),
        col(PatientWorkItem.shown_from),
        col(_S.dose_mg),
    )
    .join(_S, col(_S.subject_id) == col(PatientWorkItem.subject_id))
    .where(
        col(PatientWorkItem.site_id).in_(_SITES),
        col(PatientWorkItem.shown_from) <= _DAY,
        or_(col(PatientWorkItem.shown_until).is_(None), col(PatientWorkItem.shown_until) >= _DAY),
        col(PatientWorkItem.listed_from) <= bindparam("now", type_=UtcDateTime()),
    )
)
"""Items the patient reports' projection derives (``scheduler.patients.work_items``): listed
from their instant (a dosing day that ended unreported), on the days they stand for."""


def _rows(session: Session, query: Executable, params: dict[str, Any]) -> list[Any]:
    """Plain rows through the session's connection (same transaction), without the ORM's
    result machinery: a busy site's list has thousands of them. The statements are built once,
    at import, so each call is a cache hit with new parameters."""
    return list(session.connection().execute(query, params).all())


Found = dict[int, list[WorkItem]]
Kind = Callable[[Session, dict[int, str], dict[str, Any], Found], None]
"""Items by site id, for the sites drawn together."""


def _visit_item(site: str, day: date, row: Any) -> WorkItem:
    code, visit_code, name, target, start, end, dose = row
    kind: ItemKind
    urgency: Urgency
    if target == day:
        kind, urgency, detail = "visit_due", "today", name
    elif end < day:
        kind, urgency = "visit_overdue", "overdue"
        detail = f"{name}: window closed {(day - end).days} d ago"
    else:
        kind, urgency = "visit_in_window", "window"
        detail = f"{name}: {(end - day).days} d left"
    return WorkItem(
        subject=code,
        site=site,
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


def _visit_items(
    session: Session, codes: dict[int, str], params: dict[str, Any], out: Found
) -> None:
    day: date = params["day"]
    for site_id, *row in _rows(session, _OPEN_VISITS, params):
        out[site_id].append(_visit_item(codes[site_id], day, row))


Counts = dict[int, dict[Urgency, int]]
"""Items by site id and urgency group."""


def _first_visit_items(
    session: Session, codes: dict[int, str], params: dict[str, Any], out: Found
) -> Counts:
    """Only the open visits that head each group (``params["first"]`` of them), and how many
    of each site's groups the query left out."""
    day: date = params["day"]
    first: int = params["first"]
    unlisted: Counts = {site_id: {} for site_id in codes}
    for site_id, urgency, total in _rows(session, _OPEN_VISIT_COUNTS, params):
        unlisted[site_id][urgency] = max(total - first, 0)
    sites: dict[str, Any]
    if session.get_bind().dialect.name == "postgresql":
        heads, sites = _LATERAL_HEADS, {"site_ids": list(codes)}
    else:
        heads = _site_heads(len(codes))
        sites = {f"site_{index}": site_id for index, site_id in enumerate(codes)}
    for site_id, *row, _urgency in _rows(session, heads, params | sites):
        out[site_id].append(_visit_item(codes[site_id], day, row))
    return unlisted


def _hold_items(
    session: Session, codes: dict[int, str], params: dict[str, Any], out: Found
) -> None:
    day: date = params["day"]
    for site_id, code, start, reason, limit, dose in _rows(session, _ON_HOLD, params):
        days = (day - start).days + 1
        beyond = hold_limit_passed(days, max_hold_days=limit)
        detail = f"since {start}: {reason}; day {days} of at most {limit}"
        if beyond:
            detail += ": beyond the limit, discontinuation proposed"
        out[site_id].append(
            WorkItem(
                subject=code,
                site=codes[site_id],
                kind="on_hold",
                what=f"{days} of {limit} days",
                detail=detail,
                target=start,
                dose_mg=dose,
                urgency="overdue" if beyond else "watch",
            )
        )


def _signature_item(site: str, record: Unsigned) -> WorkItem:
    return WorkItem(
        subject=record.subject_code,
        site=site,
        kind="awaiting_signature",
        what=f"{record.kind}-{record.id}",
        detail=f"awaiting signature: {record.meaning}",
        target=record.local_day,
        urgency="overdue",
    )


def _signature_items(
    session: Session, codes: dict[int, str], params: dict[str, Any], out: Found
) -> None:
    """Investigators' decisions in effect but not yet signed: one item per record."""
    for record in unsigned_records(session, site_ids=list(codes)):
        out[record.site_id].append(_signature_item(codes[record.site_id], record))


def _first_signature_items(
    session: Session, codes: dict[int, str], params: dict[str, Any], out: Found
) -> Counts:
    """Only the decisions awaiting a signature that head each site's "overdue" group, and how
    many the query left out."""
    records, totals = first_unsigned(session, list(codes), params["first"])
    for record in records:
        out[record.site_id].append(_signature_item(codes[record.site_id], record))
    return {
        site_id: {"overdue": max(total - params["first"], 0)} for site_id, total in totals.items()
    }


def _missed_items(
    session: Session, codes: dict[int, str], params: dict[str, Any], out: Found
) -> None:
    for site_id, code, count, low, high, dose in _rows(session, _MISSED, params):
        out[site_id].append(
            WorkItem(
                subject=code,
                site=codes[site_id],
                kind="missed_doses",
                what=f"{count} missed",
                detail=f"missed dose{'s' if count > 1 else ''} {low}"
                + (f" to {high}" if high != low else ""),
                target=high,
                dose_mg=dose,
                urgency="today",
            )
        )


def _day1_item(site: str, row: Any) -> WorkItem:
    code, cycle, visit_code, target, start, end, dose, met, reason = row
    return WorkItem(
        subject=code,
        site=site,
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
        cycle=cycle,
    )


def _day1_items(
    session: Session, codes: dict[int, str], params: dict[str, Any], out: Found
) -> None:
    for site_id, *row in _rows(session, _DAY1_UNCONFIRMED, params):
        out[site_id].append(_day1_item(codes[site_id], row))


def _first_day1_items(
    session: Session, codes: dict[int, str], params: dict[str, Any], out: Found
) -> Counts:
    """Only the unconfirmed day-1 checks that head each site's "today" group, and how many
    the query left out."""
    query = _FIRST_DAY1_CHECKS[session.get_bind().dialect.name]
    unlisted: Counts = {site_id: {} for site_id in codes}
    for site_id, *row, _rank, total in _rows(session, query, params):
        out[site_id].append(_day1_item(codes[site_id], row))
        unlisted[site_id]["today"] = max(total - params["first"], 0)
    return unlisted


def _status_items(
    session: Session, codes: dict[int, str], params: dict[str, Any], out: Found
) -> None:
    for site_id, code, first, dose in _rows(session, _UNRECORDED, params):
        out[site_id].append(
            WorkItem(
                subject=code,
                site=codes[site_id],
                kind="unrecorded_doses",
                what="diary",
                detail=f"no dose record since {first}",
                target=first,
                dose_mg=dose,
            )
        )


_STANDING_URGENCY: dict[str, Urgency] = {
    "proposal": "overdue",
    "day1_check": "today",
    "dose_deviation": "today",
    "new_strength": "today",
    "rebook": "today",
}
"""As the same kinds are urgent elsewhere in the list: a decision, a check due today, and a
deviation to report as a missed dose is followed up; an appointment to book again before the
patient comes on the old day."""


def _standing_items(
    session: Session, codes: dict[int, str], params: dict[str, Any], out: Found
) -> None:
    for site_id, code, kind, what, detail, dose in _rows(session, _STANDING, params):
        out[site_id].append(
            WorkItem(
                subject=code,
                site=codes[site_id],
                kind=kind,
                what=what,
                detail=detail,
                dose_mg=dose,
                urgency=_STANDING_URGENCY.get(kind, "watch"),
            )
        )


_LAB_URGENCY: dict[str, Urgency] = {
    "ae_proposal": "overdue",
    "home_bp": "overdue",
    "urine_protein_due": "today",
}
"""A proposal and a blood pressure at the alert level need a decision; a test is due."""


_PATIENT_URGENCY: dict[str, Urgency] = {
    "patient_bp": "overdue",
    "patient_not_taken": "today",
    "patient_unreported": "today",
}
"""A blood pressure at the alert level needs a decision; a dose not taken or not reported is a
call to make today."""


def _projected_items(query: Any, urgency: dict[str, Urgency]) -> Kind:
    """Items other features keep in their own indexed rows (labs, patient reports): the same
    columns, each kind with its urgency."""

    def items(session: Session, codes: dict[int, str], params: dict[str, Any], out: Found) -> None:
        for site_id, code, kind, what, detail, shown_from, dose in _rows(session, query, params):
            out[site_id].append(
                WorkItem(
                    subject=code,
                    site=codes[site_id],
                    kind=kind,
                    what=what,
                    detail=detail,
                    target=shown_from,
                    dose_mg=dose,
                    urgency=urgency.get(kind, "watch"),
                )
            )

    return items


_OTHER_KINDS = (
    _missed_items,
    _hold_items,
    _status_items,
    _standing_items,
    _projected_items(_LAB, _LAB_URGENCY),
    _projected_items(_PATIENT, _PATIENT_URGENCY),
)


def _sort_key(item: WorkItem) -> tuple[date, str, str, str]:
    return (item.window_end or item.target or date.min, item.subject, item.kind, item.what)


def _by_urgency(
    items: list[WorkItem], first: int | None = None, unlisted: dict[Urgency, int] | None = None
) -> tuple[list[WorkItem], dict[Urgency, int]]:
    """Most urgent group first; within a group, the window that closes first (or the target),
    then subject, kind and what (the visit code): the same order whatever order the rows came
    in. Grouped before sorting: the key then needs no rank lookup. With ``first``, each group
    keeps its first items; its total counts ``unlisted`` items of it too (those the query
    left out). Returns the items and each group's total."""
    groups: dict[Urgency, list[WorkItem]] = {urgency: [] for urgency in URGENCY_TITLES}
    for item in items:
        groups[item.urgency].append(item)
    ordered: list[WorkItem] = []
    totals: dict[Urgency, int] = {}
    for urgency, group in groups.items():
        group.sort(key=_sort_key)
        total = len(group) + (unlisted or {}).get(urgency, 0)
        if total:
            totals[urgency] = total
        ordered += group[:first]
    return ordered, totals


def site_worklist(session: Session, now: datetime, site: Site, on: date | None = None) -> Worklist:
    """One site's list for ``on`` (default: today in the site's zone)."""
    return _drawn(session, now, [site], on)[0]


def _drawn(
    session: Session, now: datetime, sites: list[Site], on: date | None, first: int | None = None
) -> list[Worklist]:
    """The lists of ``sites``, each for ``on`` or its own today (with ``first``, only each
    group's first items). Sites sharing the day (all of them, unless their zones straddle
    midnight) are drawn together: one query per kind for all, not one per kind and site."""
    by_day: dict[date, list[Site]] = {}
    for site in sites:
        by_day.setdefault(on or local_today(now, site.time_zone), []).append(site)
    lists: dict[int, Worklist] = {}
    for day, group in by_day.items():
        codes = {site.id or 0: site.code for site in group}
        params = {
            "sites": list(codes),
            "day": day,
            "day1_until": day + timedelta(days=DAY1_LOOKAHEAD_DAYS),
            "missed_from": day - timedelta(days=MISSED_DAYS - 1),
            "unrecorded_before": day - timedelta(days=UNRECORDED_AFTER_DAYS),
            "now": now,
            "first": first,
        }
        found: Found = {site_id: [] for site_id in codes}
        unlisted: Counts = {}
        if first is None:
            _visit_items(session, codes, params, found)
            _day1_items(session, codes, params, found)
            _signature_items(session, codes, params, found)
        else:
            unlisted = _first_visit_items(session, codes, params, found)
            for ranked in (_first_day1_items, _first_signature_items):
                for site_id, counts in ranked(session, codes, params, found).items():
                    for urgency, count in counts.items():
                        unlisted[site_id][urgency] = unlisted[site_id].get(urgency, 0) + count
        for kind in _OTHER_KINDS:
            kind(session, codes, params, found)
        for site_id, items in found.items():
            ordered, totals = _by_urgency(items, first, unlisted.get(site_id))
            lists[site_id] = Worklist(codes[site_id], day, ordered, totals)
    return [lists[site.id or 0] for site in sites]


def worklists(
    session: Session,
    now: datetime,
    *,
    site_code: str | None = None,
    on: date | None = None,
    first: int | None = None,
) -> list[Worklist]:
    """The list of one site, or of every site (each on its own today unless ``on`` is given).
    With ``first``, each urgency group holds only its first items, as the whole list orders
    them, and its count in ``Worklist.totals``: the open visits, most of every site's items,
    are then ranked and counted by the database, and only those shown are read.

    Subjects enrolled before the worklist tables existed get their rows here on first use (the
    session's transaction commits them); ``dosing init`` does the same up front.
    """
    sites = [get_site(session, site_code)] if site_code is not None else visible_sites(session)
    if missing_rows(session, sites[0].id if site_code is not None else None):
        backfill(session, now)
    return _drawn(session, now, sites, on, first)


def worklist(
    session: Session, now: datetime, *, site_code: str | None = None, on: date | None = None
) -> list[WorkItem]:
    """Every item of :func:`worklists`, most urgent first within each site."""
    return [item for w in worklists(session, now, site_code=site_code, on=on) for item in w.items]


def _item_json(item: WorkItem, worklist: Worklist) -> dict[str, Any]:
    return {
        "subject": item.subject,
        "site": item.site,
        "date": worklist.date.isoformat(),
        "kind": item.kind,
        "urgency": item.urgency,
        "visit_code": item.visit_code,
        "what": item.what,
        "detail": item.detail,
        "target": item.target,
        "window_start": item.window_start,
        "window_end": item.window_end,
        "dose_mg": mg_number(item.dose_mg),
    }


def worklist_json(lists: list[Worklist]) -> dict[str, Any]:
    """``date`` is the day the lists were drawn for (the earliest, should sites' todays differ;
    each item carries its own ``date``)."""
    return {
        "date": min(w.date for w in lists).isoformat() if lists else None,
        "sites": [w.site for w in lists],
        "items": [_item_json(i, w) for w in lists for i in w.items],
    }
