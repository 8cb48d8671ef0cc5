"""The nurse's worklist, read from the derived rows, scenario by scenario (today is 2026-03-02,
12:00 in Shanghai)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import delete, select

from scheduler.errors import NotFound
from scheduler.models import (
    MissedDose,
    ScheduledVisit,
    Site,
    StandingItem,
    SubjectStatus,
    VisitRecord,
)
from scheduler.pharmacy.accountability import confirm_day1
from scheduler.subjects.corrections import void_record
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold, resume
from scheduler.subjects.visits import record_visit
from scheduler.worklist.items import site_worklist, worklist, worklists
from scheduler.worklist.work_item import WorkItem

TODAY = date(2026, 3, 2)


def _enroll(units, code: str, c1d1: str, **extra) -> None:
    # Surgery 35 days before C1D1: within NCT03945799's 28-56 days whatever C1D1 a test needs.
    surgery = (date.fromisoformat(c1d1) - timedelta(days=35)).isoformat()
    with units() as unit:
        enroll(unit, code, c1d1=c1d1, surgery=surgery, site_code="ZJU1", **extra)


def _items(units, on: date | None = None, site: str | None = None) -> list[WorkItem]:
    with units() as unit:
        return worklist(unit.session, unit.now, site_code=site, on=on)


def _kinds(units, subject: str, on: date | None = None) -> dict[str, list[WorkItem]]:
    found: dict[str, list[WorkItem]] = {}
    for item in _items(units, on):
        if item.subject == subject:
            found.setdefault(item.kind, []).append(item)
    return found


def _visits(units, subject: str, on: date | None = None) -> dict[str, str]:
    """visit code -> kind, for the subject's visit items."""
    return {
        i.visit_code: i.kind
        for i in _items(units, on)
        if i.subject == subject and i.visit_code and i.kind.startswith("visit_")
    }


def test_cycle_1_day_1_is_due_on_its_date_and_leaves_the_list_once_recorded(units):
    _enroll(units, "S-001", "2026-03-02")
    (item,) = [i for i in _items(units) if i.visit_code == "C1D1" and i.kind != "day1_check"]
    assert (item.kind, item.urgency, item.target) == ("visit_due", "today", TODAY)
    assert (item.window_start, item.window_end, item.dose_mg) == (TODAY, TODAY, 12)
    with units() as unit:
        record_visit(unit, "S-001", "C1D1", on=TODAY)
    assert "C1D1" not in _visits(units, "S-001")


def test_screening_not_recorded_stays_overdue_until_resolved(units):
    _enroll(units, "S-001", "2026-03-02")
    assert _visits(units, "S-001")["SCR"] == "visit_overdue"
    assert _visits(units, "S-001", date(2026, 4, 30))["SCR"] == "visit_overdue"
    with units() as unit:
        record_visit(unit, "S-001", "SCR", on="2026-02-20")
    assert "SCR" not in _visits(units, "S-001", date(2026, 4, 30))


def test_cycle_2_day_1_is_in_window_three_days_early_then_due_then_overdue(units):
    _enroll(units, "S-002", "2026-02-12")  # C2D1 2026-03-05, window 03-02..03-08
    assert _visits(units, "S-002")["C2D1"] == "visit_in_window"
    assert _visits(units, "S-002", date(2026, 3, 5))["C2D1"] == "visit_due"
    assert _visits(units, "S-002", date(2026, 3, 9))["C2D1"] == "visit_overdue"
    assert "C2D1" not in _visits(units, "S-002", date(2026, 3, 1))


def test_a_voided_visit_record_puts_the_visit_back_on_the_list(units):
    _enroll(units, "S-001", "2026-03-02")
    with units() as unit:
        record_visit(unit, "S-001", "C1D1", on=TODAY)
    assert "C1D1" not in _visits(units, "S-001")
    with units() as unit:
        record = unit.session.exec(select(VisitRecord)).one()
        void_record(unit, "S-001", "visit", record.id or 0, "entered for the wrong subject")
    assert _visits(units, "S-001")["C1D1"] == "visit_due"


def test_on_hold_shows_the_days_held_and_the_protocols_limit(units):
    _enroll(units, "S-003", "2026-02-09")
    with units() as unit:
        hold(unit, "S-003", start="2026-02-20", reason="grade 3 hypertension")
    (row,) = _kinds(units, "S-003")["on_hold"]
    assert row.what == "11 of 14 days" and row.urgency == "watch"
    assert "since 2026-02-20: grade 3 hypertension" in row.detail


def test_a_hold_beyond_the_limit_is_urgent_even_without_a_refresh(units):
    _enroll(units, "S-003", "2026-02-09")
    with units() as unit:
        hold(unit, "S-003", start="2026-02-20", reason="grade 3 hypertension")
    (row,) = _kinds(units, "S-003", date(2026, 3, 10))["on_hold"]
    assert row.what == "19 of 14 days" and row.urgency == "overdue"
    assert "beyond the limit" in row.detail


def test_visits_laid_out_behind_an_open_hold_are_never_listed_as_due_or_overdue(units):
    _enroll(units, "S-003", "2026-02-09")  # C2D1 would be 2026-03-02
    with units() as unit:
        hold(unit, "S-003", start="2026-02-20", reason="grade 3 hypertension")
    for day in (TODAY, date(2026, 3, 6), date(2026, 3, 20)):
        assert "C2D1" not in _visits(units, "S-003", day)
        assert "day1_check" not in _kinds(units, "S-003", day)


def test_a_resumption_ends_the_hold_row_and_brings_cycle_2_back(units):
    _enroll(units, "S-003", "2026-02-09")
    with units() as unit:
        hold(unit, "S-003", start="2026-02-20", reason="grade 3 hypertension")
        resume(unit, "S-003", on="2026-03-02", dose_mg=10)
    kinds = _kinds(units, "S-003")
    assert "on_hold" not in kinds
    (c2d1,) = [i for i in kinds["visit_due"] if i.visit_code == "C2D1"]
    assert c2d1.dose_mg == 10


def test_missed_doses_of_the_last_three_days_are_listed_together(units):
    _enroll(units, "S-004", "2026-02-23")
    with units() as unit:
        for day in range(23, 29):
            record_dose(unit, "S-004", on=f"2026-02-{day}", taken=day != 25)
        record_dose(unit, "S-004", on="2026-03-01", taken=False)
    (row,) = _kinds(units, "S-004")["missed_doses"]
    assert row.what == "1 missed" and "2026-03-01" in row.detail
    (row,) = _kinds(units, "S-004", date(2026, 2, 27))["missed_doses"]
    assert row.what == "1 missed" and "2026-02-25" in row.detail
    assert "missed_doses" not in _kinds(units, "S-004", date(2026, 2, 28))  # 02-26..02-28


def test_a_missed_dose_corrected_to_taken_leaves_the_list(units):
    _enroll(units, "S-004", "2026-02-23")
    with units() as unit:
        record_dose(unit, "S-004", on="2026-03-01", taken=False)
    with units() as unit:
        record_dose(unit, "S-004", on="2026-03-01", taken=True, reason="diary found")
    assert "missed_doses" not in _kinds(units, "S-004")


def test_doses_without_a_record_for_over_a_week_are_flagged_from_the_first_one(units):
    _enroll(units, "S-004", "2026-02-23")
    with units() as unit:
        record_dose(unit, "S-004", on="2026-02-23", taken=True)
    assert "unrecorded_doses" not in _kinds(units, "S-004", date(2026, 3, 3))
    (row,) = _kinds(units, "S-004", date(2026, 3, 4))["unrecorded_doses"]
    assert row.detail == "no dose record since 2026-02-24"


def test_cycle_day_1_within_three_days_needs_its_day_1_criteria(units):
    _enroll(units, "S-005", "2026-02-12")  # C2D1 2026-03-05
    assert "day1_check" not in _kinds(units, "S-005", date(2026, 3, 1))
    (row,) = _kinds(units, "S-005")["day1_check"]
    assert (row.what, row.visit_code, row.target) == ("cycle 2", "C2D1", date(2026, 3, 5))
    assert row.detail == "day-1 criteria not yet confirmed"
    with units() as unit:
        confirm_day1(unit, "S-005", cycle=2, met=False, reason="ANC 1.2")
    (row,) = _kinds(units, "S-005")["day1_check"]
    assert row.detail == "day-1 criteria not met: ANC 1.2"
    with units() as unit:
        confirm_day1(unit, "S-005", cycle=2, met=True, reason="repeat ANC 1.8")
    assert "day1_check" not in _kinds(units, "S-005")


def test_a_cycle_waiting_for_its_day_1_criteria_stays_listed_and_beyond_the_limit_is_proposed(
    units,
):
    """The rows are derived today; the cycle's day 1 moves on each day it still waits, and the
    list read for later days follows without any new record."""
    _enroll(units, "S-008", "2026-02-09")  # C2D1 2026-03-02, today
    with units() as unit:
        confirm_day1(unit, "S-008", cycle=2, met=False, reason="ANC 1.2")
    for day in (date(2026, 3, 2), date(2026, 3, 15)):
        kinds = _kinds(units, "S-008", day)
        (row,) = kinds["day1_check"]
        assert (row.what, row.detail, row.urgency) == (
            "cycle 2",
            "day-1 criteria not met: ANC 1.2",
            "today",
        )
        assert "proposal" not in kinds and "visit_due" not in kinds
    (row,) = _kinds(units, "S-008", date(2026, 3, 16))["proposal"]  # 15 days late at best
    assert (row.what, row.urgency) == ("discontinue", "overdue")
    assert row.detail == "cycle 2 waits for its day-1 criteria beyond the 14-day delay limit"


def test_a_cycle_delayed_beyond_the_limit_proposes_discontinuation(units):
    _enroll(units, "S-006", "2026-01-12")  # C2D1 2026-02-02
    with units() as unit:
        hold(unit, "S-006", start="2026-01-30", reason="grade 3 proteinuria")
        resume(unit, "S-006", on="2026-02-20", reason="investigator: continue")  # C2 18 d late
    (row,) = _kinds(units, "S-006")["proposal"]
    assert row.what == "discontinue" and row.urgency == "overdue"
    assert row.detail == "cycle 2 is delayed 18 days, beyond the 14-day limit"


def test_the_delay_proposal_lapses_when_its_cycle_ends_without_any_new_record(units):
    _enroll(units, "S-006", "2026-01-12")
    with units() as unit:
        hold(unit, "S-006", start="2026-01-30", reason="grade 3 proteinuria")
        # C2 2026-02-20..03-12, C3D1 2026-03-13
        resume(unit, "S-006", on="2026-02-20", reason="investigator: continue")
    assert "proposal" in _kinds(units, "S-006", date(2026, 3, 12))
    assert "proposal" not in _kinds(units, "S-006", date(2026, 3, 13))


def test_while_on_hold_the_hold_row_stands_for_the_growing_cycle_delay(units):
    """C2D1 waits for the open hold: its delay grows each day, so no delay proposal is stored
    (it would be stale tomorrow); beyond the limit the on-hold row turns urgent instead."""
    _enroll(units, "S-007", "2026-02-02")  # nominal C2D1 2026-02-23
    with units() as unit:
        hold(unit, "S-007", start="2026-02-10", reason="grade 3 hypertension")
    kinds = _kinds(units, "S-007", date(2026, 3, 12))
    assert "proposal" not in kinds
    (row,) = kinds["on_hold"]
    assert row.what == "31 of 14 days" and row.urgency == "overdue"


def test_items_are_grouped_most_urgent_first(units):
    _enroll(units, "S-001", "2026-03-02")
    _enroll(units, "S-002", "2026-02-12")
    with units() as unit:
        (today,) = worklists(unit.session, unit.now)
    ranks = ["overdue", "today", "window", "watch"]
    seen = [ranks.index(i.urgency) for i in today.items]
    assert seen == sorted(seen)
    titles = [title for title, _ in today.groups()]
    assert titles[0] == "Overdue or needs a decision" and "Today" in titles


def _second_site(units, zone: str) -> None:
    with units() as unit:
        unit.session.add(Site(code="NY1", name="New York", time_zone=zone))
    with units() as unit:
        enroll(unit, "N-001", c1d1="2026-03-01", surgery="2026-01-05", site_code="NY1")


def test_each_site_sees_only_its_subjects_on_its_own_today(units):
    _enroll(units, "S-001", "2026-03-02")
    _second_site(units, "America/New_York")  # 2026-03-01 23:00 there
    with units() as unit:
        lists = {w.site: w for w in worklists(unit.session, unit.now)}
        only_ny = worklists(unit.session, unit.now, site_code="NY1")
    assert lists["ZJU1"].date == TODAY and lists["NY1"].date == date(2026, 3, 1)
    assert {i.subject for i in lists["NY1"].items} == {"N-001"}
    assert [w.site for w in only_ny] == ["NY1"]
    assert "visit_due" in [i.kind for i in only_ny[0].items if i.visit_code == "C1D1"]


def test_an_unknown_site_is_refused_naming_the_field(units):
    with units() as unit, pytest.raises(NotFound) as error:
        worklist(unit.session, unit.now, site_code="NOPE")
    assert error.value.field == "site"


def test_subjects_enrolled_before_the_worklist_tables_are_filled_on_first_use(units):
    _enroll(units, "S-001", "2026-03-02")
    _enroll(units, "S-002", "2026-02-12")
    before = _items(units)
    with units() as unit:
        for table in (ScheduledVisit, MissedDose, StandingItem, SubjectStatus):
            unit.session.exec(delete(table))  # type: ignore[call-overload]
    assert _items(units) == before
    with units() as unit:
        assert len(unit.session.exec(select(SubjectStatus)).all()) == 2


def test_site_worklist_reads_no_plans(units, monkeypatch):
    _enroll(units, "S-001", "2026-03-02")

    def refuse(*_args, **_kwargs):
        raise AssertionError("the worklist must not build plans")

    monkeypatch.setattr("scheduler.core.build_plan", refuse)
    monkeypatch.setattr("scheduler.kernel.subject_state.core.build_plan", refuse)
    with units() as unit:
        site = unit.session.exec(select(Site).where(Site.code == "ZJU1")).one()
        items = site_worklist(unit.session, unit.now, site).items
    assert any(i.visit_code == "C1D1" for i in items)
