"""The list drawn with only each group's first items (``worklists(first=...)``, the page of
every site) is the whole list cut short: the same items in the same order, and the same counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from cli_runner import ACCOUNTS, PASSWORD, ensure_accounts
from sqlalchemy import text

from scheduler.db import get_engine
from scheduler.models import Site
from scheduler.signatures.records import first_unsigned, unsigned_records
from scheduler.signatures.services import sign
from scheduler.subjects.corrections import void_record
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold, resume
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
    not follow. Only the columns that take the database's collation are: a column the schema
    collates itself ("C") keeps it. (SQLite has no locale collations; its default compares
    code points.)"""
    if not db_url.startswith("postgresql"):
        yield
        return
    codes = (
        ("subjectstatus", "code"),
        ("subject", "code"),
        ("scheduledvisit", "code"),
        ("scheduledvisit", "visit_code"),
    )
    engine = get_engine(db_url)
    with engine.connect() as connection:
        defaults = [
            (table, column)
            for table, column in codes
            if connection.execute(
                text(
                    "SELECT collation_name IS NULL FROM information_schema.columns"
                    " WHERE table_schema = current_schema()"
                    " AND table_name = :table AND column_name = :column"
                ),
                {"table": table, "column": column},
            ).scalar_one()
        ]

    def collate(name: str) -> None:
        with engine.begin() as connection:
            for table, column in defaults:
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


RECORDED = (
    datetime(2026, 2, 25, 16, 30, tzinfo=UTC),
    datetime(2026, 2, 25, 23, 30, tzinfo=UTC),
    datetime(2026, 2, 26, 0, 30, tzinfo=UTC),
    datetime(2026, 2, 25, 15, 30, tzinfo=UTC),
)
"""When the n-th subject's two holds are recorded: the n-th and next of these. Half an hour
either side of midnight in Hangzhou (the last and first: one day in UTC, two at the site,
which lists date a decision by), of midnight UTC (the second and third: two days in UTC, one
at the site), and the fifth subject's hold-9 and hold-10 on one day at the site."""


@pytest.fixture
def awaiting(units, busy, db_url) -> None:
    """The subjects begun weeks ago are held, resumed and held again (some of them twice a
    day: hold-9 and hold-10 of one subject on one day order as text, "hold-10" first); two of
    the holds still running are signed (no longer awaiting) and one of those voided (the void
    awaits). The first site's "overdue" group then lists 25 overdue visits, 18 decisions, then
    more visits: cut at 27 and at 37 (between hold-10 and hold-9 of a-1), the cut falls among
    the decisions."""
    ensure_accounts(db_url)
    nurse, investigator = ACCOUNTS["nurse"], ACCOUNTS["investigator"]
    begun = [code for n, code in enumerate(CODES) if C1D1S[n % len(C1D1S)] != "2026-03-02"]
    for n, code in enumerate(begun):
        for k, (start, back) in enumerate((("2026-02-20", "2026-02-22"), ("2026-02-24", None))):
            with units(nurse, now=RECORDED[(n + k) % len(RECORDED)]) as unit:
                hold(unit, code, start=start, reason="grade 3 hypertension")
                if back:
                    resume(unit, code, on=back)
    with units(investigator) as unit:
        open_holds = [
            u for u in unsigned_records(unit.session) if u.meaning.endswith("from 2026-02-24")
        ]
        holds = sorted(open_holds, key=lambda u: u.id)
        for record in holds[-2:]:
            sign(unit, "hold", record.id, password=PASSWORD)
    with units(investigator) as unit:
        void_record(
            unit, holds[-1].subject_code, "hold", holds[-1].id, "entered for the wrong subject"
        )


def _assert_cut_is_the_whole_list_cut(units, first: int, on: date | None = None) -> None:
    with units() as unit:
        whole = worklists(unit.session, unit.now, on=on)
        cut = worklists(unit.session, unit.now, on=on, first=first)
    assert [w.site for w in cut] == [w.site for w in whole] == ["ZJU1", "ZJU2"]
    for short, full in zip(cut, whole, strict=True):
        assert [(t, _keys(items), n) for t, items, n in short.counted_groups()] == _cut(full, first)
        assert short.totals == full.totals
    if first < 100 and on is None:
        assert any(len(items) > first for w in whole for _, items in w.groups())


@pytest.mark.parametrize("first", [1, 3, 5, 100])
def test_each_groups_first_items_are_the_whole_lists_in_its_order_with_its_counts(
    units, busy, first
):
    _assert_cut_is_the_whole_list_cut(units, first)


@pytest.mark.parametrize("first", [3, 100])
def test_on_every_day_of_two_months_the_cut_list_is_the_whole_list_cut(units, busy, first):
    """Each day a window opens, a target comes and a window closes somewhere: a visit moves
    from one urgency group to the next on the day its target comes and the day after its
    window closes, and the groups' first visits are read one group at a time (cut at 100,
    every visit of every group is read so)."""
    for offset in range(-3, 60):
        _assert_cut_is_the_whole_list_cut(units, first, date(2026, 3, 2) + timedelta(days=offset))


@pytest.mark.parametrize("first", [1, 27, 37, 100])
def test_the_decisions_awaiting_a_signature_are_cut_as_the_whole_list_orders_them(
    units, awaiting, first
):
    with units() as unit:
        lists = worklists(unit.session, unit.now)
    kinds = [i.what.split("-")[0] for w in lists for i in w.items if i.kind == "awaiting_signature"]
    assert {"hold", "resumption", "void"} <= set(kinds), kinds
    _assert_cut_is_the_whole_list_cut(units, first)


def test_each_sites_first_decisions_awaiting_a_signature_are_its_head_in_the_lists_order(
    units, awaiting
):
    """Ranked by the database: the day recorded at the site, the subject's code and
    ``KIND-ID`` as text, both by code point, as the list sorts its items."""
    with units() as unit:
        every = unsigned_records(unit.session)
        site_of = {u.subject_code: u.site_id for u in every}
        ordered = sorted(every, key=lambda u: u.list_key)
        for first in range(1, 19):
            records, totals = first_unsigned(unit.session, sorted(set(site_of.values())), first)
            for site_id in set(site_of.values()):
                expected = [u for u in ordered if u.site_id == site_id]
                found = [u for u in records if u.site_id == site_id]
                found.sort(key=lambda u: u.list_key)
                assert found == expected[:first], (first, site_id)
                assert totals[site_id] == len(expected)
    assert len(every) == 23 and max(totals.values()) == 18


@pytest.mark.parametrize("first", [None, 30])
def test_a_hold_recorded_half_past_midnight_in_hangzhou_is_dated_that_day_on_the_list(
    units, busy, db_url, first
):
    """16:30 UTC on 25 February is 00:30 on the 26th at the site: the list says the 26th, as
    every date of the site's list is the site's."""
    ensure_accounts(db_url)
    with units(ACCOUNTS["nurse"], now=datetime(2026, 2, 25, 16, 30, tzinfo=UTC)) as unit:
        hold(unit, "B10", start="2026-02-24", reason="grade 3 hypertension")
    with units() as unit:
        [zju1, _] = worklists(unit.session, unit.now, first=first)
    [decision] = [i for i in zju1.items if i.kind == "awaiting_signature"]
    assert (decision.subject, decision.target) == ("B10", date(2026, 2, 26))
