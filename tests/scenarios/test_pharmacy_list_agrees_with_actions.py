"""The pharmacy list and the pharmacy actions never contradict each other.

One rule (``core.dose_changes.may_prepare``) decides whether a cycle may be prepared on a day;
the list, its "Mark prepared" button and ``dosing prepare`` all apply it. S-001 started cycle 1
on Monday 2026-02-16, so cycle 2 starts on Monday 2026-03-09 and its capsules must be ready two
working days earlier, by Thursday 2026-03-05. Dosing is held from C1D12 (2026-02-27) and the
resumption is recorded for tomorrow, Tuesday 2026-03-03. The clock reads 2026-03-02 noon in
Shanghai. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime

import pytest
from cli_runner import run
from sqlmodel import Session, select

from scheduler.clock import SystemClock
from scheduler.db import get_engine
from scheduler.errors import InputError, RuleViolation
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.unit import Unit
from scheduler.models import Preparation
from scheduler.pharmacy.accountability import dispense, mark_not_needed, prepare
from scheduler.pharmacy.preparation_list import NOT_YET, OVERDUE, TO_PREPARE, preparation_list
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold, resume

TOMORROW = date(2026, 3, 3)


@pytest.fixture
def wall_clock(monkeypatch, clock):
    """The command line reads the wall clock: it reads the scenario's instead."""
    monkeypatch.setattr(SystemClock, "now", lambda self: clock.now())


@pytest.fixture
def on_hold_until_tomorrow(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-16", surgery="2026-01-12", site_code="ZJU1")
        dispense(
            unit, "S-001", cycle=1, on="2026-02-16", strength=12, count=14, lot="AN1",
            expiry="2027-06-30", reason="prepared on paper",
        )  # fmt: skip
        hold(unit, "S-001", start="2026-02-27", reason="grade 3 hypertension")
        resume(unit, "S-001", on=TOMORROW)
    return "S-001"


def _row(units, code, cycle, now=None):
    with units(now=now) as unit:
        listing = preparation_list(unit.session, unit.now, site_code="ZJU1")
    (row,) = [r for r in listing.rows if (r.subject, r.cycle) == (code, cycle)]
    return row


def _prepare_would(db_url, now, code, cycle):
    """What pressing "Mark prepared" would do, tried in a transaction that is rolled back."""
    with Session(get_engine(db_url), expire_on_commit=False) as session:
        session.begin()
        try:
            prepare(Unit(session=session, actor="pharmacist", now=now), code, cycle=cycle)
            return "prepared"
        except RuleViolation as refused:
            return refused.reason
        finally:
            session.rollback()


def test_on_hold_with_a_resumption_tomorrow_the_row_says_prepare_from_tomorrow(
    units, on_hold_until_tomorrow, db_url, clock
):
    row = _row(units, "S-001", 2)
    assert (row.status, row.prepare_from, row.prepare_by) == (NOT_YET, TOMORROW, date(2026, 3, 5))
    assert row.refusal.startswith("do not prepare before 2026-03-03: dosing is on hold")
    assert _prepare_would(db_url, clock.now(), "S-001", 2) == row.refusal
    tomorrow_noon = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)
    assert _row(units, "S-001", 2, now=tomorrow_noon).status == TO_PREPARE
    assert _prepare_would(db_url, tomorrow_noon, "S-001", 2) == "prepared"


def test_the_page_offers_no_button_that_the_action_would_refuse(
    staff_client, units, on_hold_until_tomorrow
):
    pharmacist = staff_client("pharmacist")
    page = pharmacist.get("/pharmacy").text
    row = re.search(r'<tr id="row-S-001-2">.*?</tr>', page, re.S).group(0)
    assert "not yet: prepare from 2026-03-03" in row
    assert 'id="prepare-S-001-2"' not in row
    refused = pharmacist.form(
        "/pharmacy/subjects/S-001/preparations", {"cycle": "2", "form": "prepare-S-001-2"}
    )
    assert refused.status_code == 409 and "do not prepare before 2026-03-03" in refused.text


def test_dosing_prepare_says_the_same_as_the_list(
    capsys, units, on_hold_until_tomorrow, db_url, wall_clock
):
    code, out, _ = run(capsys, "pharmacy", "--json", "--site", "ZJU1", "--db", db_url)
    (listed,) = [r for r in json.loads(out)["rows"] if r["cycle"] == 2]
    code, _, err = run(capsys, "prepare", "S-001", "--cycle", "2", "--db", db_url)
    assert code == 2
    assert listed["refusal"] in err and listed["prepare_from"] == "2026-03-03"


def test_without_site_each_site_lists_from_its_own_today(units, settings, capsys, db_url):
    """At 02:00 UTC on Wednesday 4 March it is already the 4th in Shanghai but still Tuesday
    the 3rd in Los Angeles, where L-001's capsules for Thursday's day 1 are due today."""
    with units() as unit:
        los_angeles = settings.model_copy(
            update={"default_site_code": "LAX1", "default_site_time_zone": "America/Los_Angeles"}
        )
        ensure_default_site(unit, los_angeles)
        enroll(unit, "L-001", c1d1="2026-03-05", surgery="2026-02-01", site_code="LAX1")
    now = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    with units(now=now) as unit:
        listing = preparation_list(unit.session, unit.now)
    assert [(r.subject, r.cycle, r.prepare_by) for r in listing.rows] == [
        ("L-001", 1, date(2026, 3, 3))
    ]
    assert listing.start == date(2026, 3, 3)


def test_a_day_1_passed_with_nothing_dispensed_stays_overdue_until_dispensed_or_not_needed(
    units,
):
    """S-002 started cycle 1 on 2 February; nothing was prepared or dispensed for cycles 1
    and 2 (day 1 on 23 February)."""
    with units() as unit:
        enroll(unit, "S-002", c1d1="2026-02-02", surgery="2026-01-05", site_code="ZJU1")
    overdue = [r for r in _listings(units) if r.subject == "S-002" and r.overdue]
    assert [(r.cycle, OVERDUE in r.flags) for r in overdue] == [(1, True), (2, True)]
    with pytest.raises(InputError, match="reason") as refused, units("pharmacist") as unit:
        mark_not_needed(unit, "S-002", cycle=1, reason="  ")
    assert refused.value.field == "reason"
    with units("pharmacist") as unit:
        mark_not_needed(unit, "S-002", cycle=1, reason="dispensed on paper, record filed")
    with pytest.raises(InputError, match="no 12 mg preparation") as refused, units() as unit:
        dispense(
            unit, "S-002", cycle=2, on="2026-02-23", strength=12, count=14, lot="AN2",
            expiry="2027-06-30",
        )  # fmt: skip
    assert refused.value.field == "reason"
    with units("pharmacist") as unit:
        dispense(
            unit, "S-002", cycle=2, on="2026-02-23", strength=12, count=14, lot="AN2",
            expiry="2027-06-30", reason="emergency supply from the ward",
        )  # fmt: skip
    assert [r.cycle for r in _listings(units) if r.subject == "S-002" and r.overdue] == []
    with units() as unit:
        assert unit.session.exec(select(Preparation)).all() == []


def _listings(units):
    with units() as unit:
        return preparation_list(unit.session, unit.now, site_code="ZJU1").rows


def test_the_csv_is_one_table_and_the_totals_go_to_their_own_file(
    capsys, units, db_url, tmp_path, wall_clock
):
    with units() as unit:
        enroll(unit, "S-003", c1d1="2026-03-09", surgery="2026-02-01", site_code="ZJU1")
    totals = tmp_path / "totals.csv"
    code, out, err = run(
        capsys, "pharmacy", "--csv", "--site", "ZJU1", "--totals", str(totals), "--db", db_url
    )
    assert code == 0, err
    table = list(csv.reader(io.StringIO(out)))
    assert len({len(line) for line in table}) == 1
    assert [line[1] for line in table[1:]] == ["S-003"]
    assert not any("TOTAL" in cell for line in table for cell in line)
    assert list(csv.DictReader(io.StringIO(totals.read_text()))) == [
        {"strength_mg": "12", "count": "14"}
    ]
