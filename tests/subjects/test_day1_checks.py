"""Day-1 criteria checks through the service, on SQLite and PostgreSQL: the date assessed, its
checks, and the plan and derived rows that follow. The fixed clock reads 2026-03-02 noon in
Shanghai; S-001 started cycle 1 on 2026-02-09, so cycle 2 is due today and cycle 3 on 03-23."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import func, select

from scheduler.errors import Conflict, InputError
from scheduler.kernel.subject_state import get_subject, plan_for
from scheduler.models import AuditEntry, Day1Check
from scheduler.pharmacy.accountability import confirm_day1, load_records
from scheduler.pharmacy.preparation_list import DAY1_NOT_MET, preparation_list
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.worklist.items import worklist

TODAY = date(2026, 3, 2)


def _at_noon_in_shanghai(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-09", surgery="2026-01-05", site_code="ZJU1")
    return "S-001"


def _saved(units) -> tuple[int, int]:
    """Day-1 checks and their audit entries stored so far."""
    with units() as unit:
        checks = unit.session.exec(select(func.count()).select_from(Day1Check)).one()
        audit = unit.session.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "day1check")
        ).one()
    return checks, audit


def _plan(units, subject):
    with units() as unit:
        return plan_for(unit.session, subject, unit.now)


def _day1_items(units, subject, on=None):
    with units() as unit:
        items = worklist(unit.session, unit.now, on=on)
    return [i for i in items if i.subject == subject and i.kind == "day1_check"]


def test_a_check_is_dated_today_at_the_subject_s_site_unless_on_says_otherwise(units, subject):
    # 20:00 UTC on 1 March is already 2 March in Shanghai.
    with units(now=datetime(2026, 3, 1, 20, 0, tzinfo=UTC)) as unit:
        today = confirm_day1(unit, subject, cycle=2, met=True)
    with units() as unit:
        back_dated = confirm_day1(unit, subject, cycle=2, met=True, on="2026-02-27")
    assert (today.assessed_on, back_dated.assessed_on) == (TODAY, date(2026, 2, 27))


@pytest.mark.parametrize(
    ("cycle", "on", "reason"),
    [
        (2, "2026-03-03", "2026-03-03 is in the future (today is 2026-03-02 at the site)"),
        (3, "2026-02-08", "2026-02-08 is before cycle 2 day 1 on 2026-03-02; a cycle 3 check"),
        (1, "2026-01-04", "2026-01-04 is before the surgery on 2026-01-05; a cycle 1 check"),
        (2, "2026-02-30", "'2026-02-30' is not a real date"),
    ],
)
def test_a_check_dated_in_the_future_before_the_previous_cycle_or_not_a_date_is_refused(
    units, subject, cycle, on, reason
):
    with pytest.raises(InputError) as refused, units() as unit:
        confirm_day1(unit, subject, cycle=cycle, met=True, on=on)
    assert refused.value.field == "on" and refused.value.reason.startswith(reason)
    assert _saved(units) == (0, 0)


def test_a_check_of_the_next_cycle_waits_until_the_previous_one_has_started(units, subject):
    with units() as unit:
        confirm_day1(unit, subject, cycle=2, met=False, reason="ANC 1.2")
    with pytest.raises(InputError, match="before cycle 2 day 1 \\(not started\\)"), units() as u:
        confirm_day1(u, subject, cycle=3, met=True)


def test_not_met_holds_the_cycle_back_and_the_derived_rows_follow_in_the_same_unit(units, subject):
    with units() as unit:
        confirm_day1(unit, subject, cycle=2, met=False, reason="ANC 1.2")
        touched = set(unit.changed_subjects)
    assert len(touched) == 1  # so the reminders, feed and worklist rows were refreshed
    plan = _plan(units, subject)
    c2 = plan.cycles[1]
    assert (c2.day1, c2.tentative) == (date(2026, 3, 3), True)
    assert {s.status for s in c2.doses} == {"held"}
    (item,) = _day1_items(units, subject)
    assert (item.what, item.detail, item.urgency) == (
        "cycle 2",
        "day-1 criteria not met: ANC 1.2",
        "today",
    )

    later = _at_noon_in_shanghai(date(2026, 3, 5))
    with units(now=later) as unit:
        confirm_day1(unit, subject, cycle=2, met=True)  # a new check: no reason needed
    with units(now=later) as unit:
        c2 = plan_for(unit.session, subject, unit.now).cycles[1]
    assert (c2.day1, c2.delay_days, c2.tentative) == (date(2026, 3, 5), 3, False)
    assert _day1_items(units, subject, on=date(2026, 3, 5)) == []


def test_a_check_that_would_move_a_cycle_under_recorded_doses_is_refused_nothing_saved(
    units, subject
):
    with units() as unit:
        record_dose(unit, subject, on="2026-03-02", taken=True)  # C2D1, today
    with pytest.raises(Conflict) as refused, units() as unit:
        confirm_day1(unit, subject, cycle=2, met=False, reason="platelets 60")
    assert refused.value.field == "on"
    assert refused.value.reason == (
        "cycle 2 would start on 2026-03-03, not 2026-03-02, but doses are recorded on "
        "2026-03-02; correct those records first"
    )
    assert _saved(units) == (0, 0)
    assert _plan(units, subject).cycles[1].day1 == TODAY


def test_a_second_check_of_one_day_corrects_the_first_and_needs_a_reason(units, subject):
    with units() as unit:
        confirm_day1(unit, subject, cycle=2, met=False, reason="ANC 1.2")
    correction = pytest.raises(Conflict, match="already recorded; give --reason")
    with correction as refused, units() as unit:
        confirm_day1(unit, subject, cycle=2, met=True)
    assert refused.value.field == "reason"
    with units() as unit:
        confirm_day1(unit, subject, cycle=2, met=True, reason="ANC re-read: 1.6")
    assert _plan(units, subject).cycles[1].day1 == TODAY  # corrected: no delay
    with units() as unit:
        actions = unit.session.exec(
            select(AuditEntry.action).where(AuditEntry.entity == "day1check")
        ).all()
    assert actions == ["day1.confirm", "day1.correct"]


def test_the_check_that_counts_is_the_latest_assessed_not_the_latest_typed_in(units, subject):
    with units() as unit:
        confirm_day1(unit, subject, cycle=2, met=True, on="2026-03-02")
        confirm_day1(unit, subject, cycle=2, met=False, reason="ANC 1.2", on="2026-03-01")
    plan = _plan(units, subject)
    assert plan.cycles[1].day1 == TODAY and plan.waiting_for_criteria() is None
    with units() as unit:
        sid = get_subject(unit.session, subject).id or 0
        records = load_records(unit.session, [sid])[sid]
        listing = preparation_list(
            unit.session, unit.now, start=date(2026, 2, 20), end=date(2026, 3, 31)
        )
    assert records.day1_check(2).met
    (row,) = [r for r in listing.rows if r.cycle == 2]
    assert not any(flag.startswith(DAY1_NOT_MET) for flag in row.flags)
