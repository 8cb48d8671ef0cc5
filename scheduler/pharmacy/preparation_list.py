"""The pharmacy preparation list, as the page, ``dosing pharmacy``, the CSV, the feeds and the
digests read it: the rows of ``preparation_rows`` for every subject of the sites asked for,
soonest prepare-by first. Subjects whose rows were kept for today (``kept_rows``) are read from
them; the others' plans are derived here, so the list is the same either way."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from scheduler.clock import local_today
from scheduler.core.accountability import Reconciliation
from scheduler.errors import InputError
from scheduler.kernel.sites import get_site, site_scope
from scheduler.kernel.subject_state import states
from scheduler.models import Site, Subject
from scheduler.pharmacy.accountability import load_records
from scheduler.pharmacy.capsules import CapsuleLine, capsules_for
from scheduler.pharmacy.kept_rows import expected, read_kept, stale_subjects
from scheduler.pharmacy.preparation_rows import (
    DAY1_NOT_MET,
    DAY1_UNCONFIRMED,
    DEFAULT_DAYS,
    DISPENSED,
    DO_NOT_PREPARE,
    DOSE_REDUCED,
    MID_CYCLE,
    NOT_YET,
    ON_HOLD,
    OVERDUE,
    PLAN_CHANGED,
    PREPARED,
    STOPPED,
    TO_PREPARE,
    URGENT,
    PreparationList,
    PreparationRow,
    StrengthTotal,
    rows_for_plan,
    sort_key,
    subject_rows,
    totals,
)

__all__ = [
    "DAY1_NOT_MET",
    "DAY1_UNCONFIRMED",
    "DISPENSED",
    "DOSE_REDUCED",
    "DO_NOT_PREPARE",
    "MID_CYCLE",
    "NOT_YET",
    "ON_HOLD",
    "OVERDUE",
    "PLAN_CHANGED",
    "PREPARED",
    "STOPPED",
    "TO_PREPARE",
    "URGENT",
    "CapsuleLine",
    "PreparationList",
    "PreparationRow",
    "StrengthTotal",
    "capsules_for",
    "preparation_list",
    "rows_for_plan",
]


def _site_ids(session: Session, site_code: str | None) -> tuple[Site | None, list[int]]:
    """The site asked for, and the sites listed: those (of the ones the session may see) with
    subjects."""
    query = select(Subject.site_id).distinct()
    site = get_site(session, site_code) if site_code is not None else None
    scope = site_scope(session)
    if site is not None:
        query = query.where(Subject.site_id == site.id)
    elif scope is not None:
        query = query.where(col(Subject.site_id).in_(scope))
    return site, sorted(session.exec(query).all())


def _in_code_order(
    session: Session, parts: list[tuple[str, list[Reconciliation]]]
) -> tuple[Reconciliation, ...]:
    """Discrepancies of kept and derived subjects, in the database's order of subject codes."""
    order = (
        {
            code: n
            for n, code in enumerate(
                session.exec(
                    select(Subject.code)
                    .where(col(Subject.code).in_([code for code, _ in parts]))
                    .order_by(col(Subject.code))
                )
            )
        }
        if len(parts) > 1
        else {}
    )
    return tuple(d for _, found in sorted(parts, key=lambda p: order.get(p[0], 0)) for d in found)


def preparation_list(
    session: Session,
    now: datetime,
    *,
    site_code: str | None = None,
    start: date | None = None,
    end: date | None = None,
    holidays: Mapping[str, Collection[date]] | None = None,
    limit: int | None = None,
) -> PreparationList:
    """The list for ``start``..``end`` (default: the 7 days from today at each site, so a site
    whose day has already begun, or not yet, is listed from its own today); with ``limit``, its
    first rows only, saying how many more there are."""
    holidays = holidays or {}
    site, site_ids = _site_ids(session, site_code)
    if start is None and site is not None:
        start = local_today(now, site.time_zone)
    sites = {s.id or 0: s for s in session.exec(select(Site).where(col(Site.id).in_(site_ids)))}
    ranges: dict[int, tuple[date, date]] = {}
    for site_id in site_ids:
        first = start if start is not None else local_today(now, sites[site_id].time_zone)
        ranges[site_id] = (first, end or first + timedelta(days=DEFAULT_DAYS - 1))
    shown_start = start or min((r[0] for r in ranges.values()), default=local_today(now, "UTC"))
    shown_end = end or max(
        (r[1] for r in ranges.values()), default=shown_start + timedelta(days=DEFAULT_DAYS - 1)
    )
    if shown_end < shown_start or any(last < first for first, last in ranges.values()):
        raise InputError("to", f"{shown_end} is before the start of the range {shown_start}")
    if not ranges:
        return PreparationList(site_code, shown_start, shown_end, (), ())
    want = expected(session, now, ranges, {i: holidays.get(sites[i].code, ()) for i in ranges})
    stale = stale_subjects(session, want)
    derived = states(session, [s for s in stale if s.site_id in ranges], now)
    records = load_records(session, [s.subject.id or 0 for s in derived])
    rows: list[PreparationRow] = []
    parts: list[tuple[str, list[Reconciliation]]] = []
    for state in derived:
        first, last = ranges[state.site.id or 0]
        closed = holidays.get(state.site.code, ())
        mine, found = subject_rows(state, records[state.subject.id or 0], first, last, closed)
        rows.extend(mine)
        if found:
            parts.append((state.subject.code, found))
    # Every site's subjects (no account scope): no site filter. A row kept for a site without
    # subjects now belongs to a subject that moved, which ``stale_subjects`` left out.
    every = site is None and site_scope(session) is None
    kept = read_kept(session, None if every else site_ids, [s.id or 0 for s in stale], limit)
    counts = kept.to_prepare
    for line in totals(rows):
        counts[line.strength_mg] = counts.get(line.strength_mg, 0) + line.count
    count = kept.count + len(rows)
    rows = sorted(rows + kept.rows, key=sort_key)
    if limit is not None:
        rows = rows[:limit]
    return PreparationList(
        site_code,
        shown_start,
        shown_end,
        tuple(rows),
        tuple(StrengthTotal(s, counts[s]) for s in sorted(counts)),
        _in_code_order(session, parts + kept.discrepancies),
        more=count - len(rows),
    )
