"""The list drawn with only each group's first items (``worklists(first=...)``, the page of
every site) is the whole list cut short: the same items in the same order, and the same counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from scheduler.db import get_engine
from scheduler.models import Site
from scheduler.subjects.enrolment import enroll
from scheduler.worklist.items import Worklist, worklists

CODES = ("B-10", "B10", "b-2", "B_3", "B-1", "b10", "B.2", "a-1", "A1", "B1", "b_1", "A-2")
"""Ordered by code point ('B-10' < 'B.2' < 'B1' < 'B_3' < 'a-1' < 'b-2'), but otherwise by a
locale's collation, which weighs letters before case and punctuation ('a-1' < 'A1' < 'b-2' <
'B10')."""
C1D1S = ("2026-03-02", "2026-02-12", "2026-01-20")
"""C1D1 today, three weeks ago and six weeks ago: subjects sharing one share their visits'
windows, so each group has many visits whose windows close on the same day."""


@pytest.fixture
def locale_collation(db_url: str) -> Iterator[None]:
    """On PostgreSQL, the codes collated as an en-US database would: the order the list must
    not follow. (SQLite has no locale collations; its default compares code points.)"""
    if not db_url.startswith("postgresql"):
        yield
        return
    columns = (("subjectstatus", "code"), ("scheduledvisit", "visit_code"))
    engine = get_engine(db_url)

    def collate(name: str) -> None:
        with engine.begin() as connection:
            for table, column in columns:
                retype = f'TYPE VARCHAR(32) COLLATE "{name}"'
                connection.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} {retype}"))

    collate("en-US-x-icu")
    try:
        yield
    finally:
        collate("default")


@pytest.fixture
def busy(units, locale_collation) -> None:
    with units() as unit:
        unit.session.add(Site(code="ZJU2", name="Second site", time_zone="Asia/Shanghai"))
    for n, code in enumerate(CODES):
        c1d1 = date.fromisoformat(C1D1S[n % len(C1D1S)])
        with units() as unit:
            enroll(
                unit,
                code,
                c1d1=c1d1,
                surgery=c1d1 - timedelta(days=35),
                site_code="ZJU1" if n < 9 else "ZJU2",
            )


def _cut(full: Worklist, first: int) -> list[tuple[str, list[tuple[str, ...]], int]]:
    return [(title, _keys(items[:first]), len(items)) for title, items in full.groups()]


def _keys(items) -> list[tuple[str, ...]]:
    return [(i.subject, i.kind, i.what, str(i.window_end), i.detail) for i in items]


@pytest.mark.parametrize("first", [1, 3, 5, 100])
def test_each_groups_first_items_are_the_whole_lists_in_its_order_with_its_counts(
    units, busy, first
):
    with units() as unit:
        whole = worklists(unit.session, unit.now)
        cut = worklists(unit.session, unit.now, first=first)
    assert [w.site for w in cut] == [w.site for w in whole] == ["ZJU1", "ZJU2"]
    for short, full in zip(cut, whole, strict=True):
        assert [(t, _keys(items), n) for t, items, n in short.counted_groups()] == _cut(full, first)
        assert short.totals == full.totals
    if first < 100:
        assert any(len(items) > first for w in whole for _, items in w.groups())
