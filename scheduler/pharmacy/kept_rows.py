"""The preparation list kept for the day: each subject's rows as derived for its local today,
the list's default range and its site's holidays, stamped with the subject's ``revision``.

Building every plan on each request cost seconds at a large site (the list read 500 plans per
site, 10,000 for every site). A subject's rows depend only on its records (every change to
them bumps ``revision`` in the same transaction), its site, its local today, the range and the
holidays, so rows whose stamp matches all of these are exactly what deriving them again would
give, and the list reads them with a few indexed queries. Any other subject (changed since,
moved to another site, a new day, another range) is derived on the request, as before; so a
list is never stale, only slower when many stamps are out of date.

The stamps are renewed once a day per site by the job that re-derives the day's plans
(``scheduler.reminders.jobs``), and by ``keep_rows`` wherever else it is called. The stamp is
read before the records it was derived from, under the subjects' row locks, so a change
committed meanwhile can only make a stamp look older than its rows, never newer.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, literal, not_, or_
from sqlmodel import Session, col, select

from scheduler.clock import local_today
from scheduler.core.accountability import Reconciliation
from scheduler.kernel.subject_state import states
from scheduler.models import (
    KeptCapsuleTotal,
    KeptPreparationRow,
    PreparationStamp,
    Site,
    Subject,
)
from scheduler.pharmacy.accountability import load_records
from scheduler.pharmacy.capsules import CapsuleLine
from scheduler.pharmacy.preparation_rows import (
    DEFAULT_DAYS,
    PreparationRow,
    sort_key,
    subject_rows,
    totals,
)

_NEVER = date.min
"""Compared with a stamp where an expected value is unknown: never equal, so never fresh."""


@dataclass(frozen=True)
class Expected:
    """What a fresh stamp holds, per subject time zone and per site."""

    today: Mapping[str, date]
    """The local today of each subject time zone."""
    ranges: Mapping[int, tuple[date, date]]
    holidays: Mapping[int, str]


def holidays_key(days: Collection[date]) -> str:
    return ",".join(sorted(day.isoformat() for day in days))


def default_range(today: date) -> tuple[date, date]:
    return today, today + timedelta(days=DEFAULT_DAYS - 1)


def _lines(lines: Sequence[CapsuleLine]) -> list[list[float]]:
    return [[line.strength_mg, line.count] for line in lines]


def _capsule_lines(pairs: Sequence[Sequence[Any]]) -> tuple[CapsuleLine, ...]:
    return tuple(CapsuleLine(strength, count) for strength, count in pairs)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def encode_row(row: PreparationRow) -> str:
    return json.dumps(
        [
            row.subject,
            row.site,
            row.cycle,
            row.day1.isoformat(),
            row.window_start.isoformat(),
            row.window_end.isoformat(),
            row.dose_mg,
            row.dose_level,
            _lines(row.capsules),
            row.prepare_by.isoformat(),
            row.status,
            list(row.flags),
            _lines(row.prepared),
            row.prepare_from.isoformat() if row.prepare_from else None,
            row.refusal,
            row.overdue,
            row.unscheduled,
            _lines(row.expected_back),
        ]
    )


def decode_row(text: str) -> PreparationRow:
    (subject, site, cycle, day1, window_start, window_end, dose_mg, level, capsules) = (
        values := json.loads(text)
    )[:9]
    (prepare_by, status, flags, prepared, prepare_from, refusal) = values[9:15]
    overdue, unscheduled, expected_back = values[15:]
    return PreparationRow(
        subject=subject,
        site=site,
        cycle=cycle,
        day1=date.fromisoformat(day1),
        window_start=date.fromisoformat(window_start),
        window_end=date.fromisoformat(window_end),
        dose_mg=dose_mg,
        dose_level=level,
        capsules=_capsule_lines(capsules),
        prepare_by=date.fromisoformat(prepare_by),
        status=status,
        flags=tuple(flags),
        prepared=_capsule_lines(prepared),
        prepare_from=_day(prepare_from),
        refusal=refusal,
        overdue=overdue,
        unscheduled=unscheduled,
        expected_back=_capsule_lines(expected_back),
    )


_RECONCILIATION_FIELDS = (
    "subject",
    "cycle",
    "strength_mg",
    "dispensed",
    "returned",
    "taken_capsules",
    "expected_return",
    "discrepancy",
    "reviewed",
)


def encode_discrepancies(found: Sequence[Reconciliation]) -> str:
    if not found:
        return ""
    return json.dumps([[getattr(r, name) for name in _RECONCILIATION_FIELDS] for r in found])


def decode_discrepancies(text: str) -> list[Reconciliation]:
    return [Reconciliation(*values) for values in json.loads(text)] if text else []


def out_of_date(
    session: Session, now: datetime, site: Site, holidays: Mapping[str, Collection[date]]
) -> list[int]:
    """The subjects of a site whose kept rows the default list cannot read today, by id: what
    the nightly job derives (a process started later in the day, or a second process, finds
    little or nothing left to do)."""
    site_id = site.id or 0
    want = expected(
        session,
        now,
        {site_id: default_range(local_today(now, site.time_zone))},
        {site_id: holidays.get(site.code, ())},
    )
    return sorted(s.id or 0 for s in stale_subjects(session, want) if s.site_id == site_id)


def keep_rows(
    session: Session,
    now: datetime,
    holidays: Mapping[str, Collection[date]],
    subject_ids: Sequence[int],
) -> int:
    """Derive and keep these subjects' rows for today's default list; returns how many
    subjects. Runs in the caller's transaction, which it expects to write."""
    query = (
        select(Subject)
        .where(col(Subject.id).in_(list(subject_ids)))
        .order_by(col(Subject.id))
        .with_for_update()
    )
    subjects = list(session.exec(query))
    if not subjects:
        return 0
    ids = [s.id or 0 for s in subjects]
    for table in (KeptPreparationRow, KeptCapsuleTotal, PreparationStamp):
        session.execute(delete(table).where(col(table.subject_id).in_(ids)))
    records = load_records(session, ids)
    stamps: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    capsules: list[dict[str, Any]] = []
    for state in states(session, subjects, now):
        closed = holidays.get(state.site.code, ())
        first, last = default_range(local_today(now, state.site.time_zone))
        subject_id = state.subject.id or 0
        rows, discrepancies = subject_rows(state, records[subject_id], first, last, closed)
        stamps.append(
            {
                "subject_id": subject_id,
                "site_id": state.subject.site_id,
                "revision": state.subject.revision,
                "derived_for": state.today,
                "range_start": first,
                "range_end": last,
                "holidays": holidays_key(closed),
                "discrepancies": encode_discrepancies(discrepancies),
            }
        )
        kept.extend(
            {
                "subject_id": subject_id,
                "site_id": state.subject.site_id,
                "prepare_by": row.prepare_by,
                "payload": encode_row(row),
            }
            for row in rows
        )
        owner = {"subject_id": subject_id, "site_id": state.subject.site_id}
        capsules.extend(
            owner | {"strength_mg": line.strength_mg, "count": line.count} for line in totals(rows)
        )
    session.execute(insert(PreparationStamp), stamps)
    for table, values in ((KeptPreparationRow, kept), (KeptCapsuleTotal, capsules)):
        if values:
            session.execute(insert(table), values)
    return len(subjects)


def expected(
    session: Session,
    now: datetime,
    ranges: Mapping[int, tuple[date, date]],
    holidays: Mapping[int, Collection[date]],
) -> Expected:
    """What the stamps of the subjects of these sites (by id, with their ranges and holidays)
    must say to be read as they are."""
    zones = session.exec(
        select(Subject.time_zone).where(col(Subject.site_id).in_(list(ranges))).distinct()
    ).all()
    return Expected(
        today={zone: local_today(now, zone) for zone in zones},
        ranges=ranges,
        holidays={site_id: holidays_key(holidays.get(site_id, ())) for site_id in ranges},
    )


def _by(mapping: Mapping[Any, Any], key: Any, sentinel: Any) -> ColumnElement[Any]:
    if not mapping:
        return literal(sentinel)
    return case(mapping, value=key, else_=sentinel)


def _fresh(want: Expected) -> ColumnElement[bool]:
    site = col(Subject.site_id)
    return and_(
        col(PreparationStamp.revision) == col(Subject.revision),
        col(PreparationStamp.site_id) == site,
        col(PreparationStamp.derived_for) == _by(want.today, col(Subject.time_zone), _NEVER),
        col(PreparationStamp.range_start)
        == _by({s: r[0] for s, r in want.ranges.items()}, site, _NEVER),
        col(PreparationStamp.range_end)
        == _by({s: r[1] for s, r in want.ranges.items()}, site, _NEVER),
        col(PreparationStamp.holidays) == _by(want.holidays, site, "never"),
    )


def stale_subjects(session: Session, want: Expected) -> list[Subject]:
    """The subjects whose kept rows may not be read for these sites: those of the sites whose
    stamp does not match (or is missing), and those kept for one of them that have moved to
    another site since."""
    sites = list(want.ranges)
    here = session.exec(
        select(Subject)
        .outerjoin(PreparationStamp, col(PreparationStamp.subject_id) == Subject.id)
        .where(
            col(Subject.site_id).in_(sites),
            or_(col(PreparationStamp.subject_id).is_(None), not_(_fresh(want))),
        )
    ).all()
    moved = session.exec(
        select(Subject)
        .join(PreparationStamp, col(PreparationStamp.subject_id) == Subject.id)
        .where(
            col(PreparationStamp.site_id).in_(sites),
            col(PreparationStamp.site_id) != col(Subject.site_id),
        )
    ).all()
    return [*here, *moved]


@dataclass(frozen=True)
class Kept:
    """The kept rows of some sites, less those of the subjects left out: the first ones asked
    for, in list order."""

    rows: list[PreparationRow]
    count: int
    """Every row read, shown or not."""
    to_prepare: dict[float, int]
    """Capsules per strength over the rows still to prepare."""
    discrepancies: list[tuple[str, list[Reconciliation]]]
    """Per subject code, in code order."""


def _kept(table: Any, sites: list[int] | None, left_out: list[int], *columns: Any) -> Any:
    query = select(*columns).select_from(table)
    if sites is not None:
        query = query.where(col(table.site_id).in_(sites))
    if left_out:
        query = query.where(col(table.subject_id).not_in(left_out))
    return query


def read_kept(
    session: Session, sites: list[int] | None, left_out: list[int], limit: int | None
) -> Kept:
    """The first ``limit`` rows (all with None) kept for these sites (None: every site, read
    without a filter the indexes would have to merge), leaving out the subjects
    ``stale_subjects`` found: every other subject's stamp is fresh, so its rows are read as
    they are. Those prepared by the ``limit``-th row's date are read and sorted here, so the
    order is the list's own to the last tie."""
    rows_of = partial(_kept, KeptPreparationRow, sites, left_out)
    query = rows_of(KeptPreparationRow.payload)
    count = session.exec(rows_of(func.count())).one()
    if limit is not None and count > limit:
        cutoff = session.exec(
            rows_of(KeptPreparationRow.prepare_by)
            .order_by(col(KeptPreparationRow.prepare_by))
            .offset(limit - 1)
            .limit(1)
        ).one()
        query = query.where(col(KeptPreparationRow.prepare_by) <= cutoff)
    rows = sorted((decode_row(payload) for payload in session.exec(query)), key=sort_key)
    to_prepare = session.exec(
        _kept(
            KeptCapsuleTotal,
            sites,
            left_out,
            KeptCapsuleTotal.strength_mg,
            func.sum(KeptCapsuleTotal.count),
        ).group_by(col(KeptCapsuleTotal.strength_mg))
    ).all()
    found = session.exec(
        _kept(PreparationStamp, sites, left_out, Subject.code, PreparationStamp.discrepancies)
        .join(Subject, col(Subject.id) == PreparationStamp.subject_id)
        .where(PreparationStamp.discrepancies != "")
        .order_by(col(Subject.code))
    ).all()
    return Kept(
        rows=rows if limit is None else rows[:limit],
        count=count,
        to_prepare={strength: int(number) for strength, number in to_prepare},
        discrepancies=[(code, decode_discrepancies(text)) for code, text in found],
    )
