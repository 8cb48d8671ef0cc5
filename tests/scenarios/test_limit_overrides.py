"""Continuing beyond the hold or cycle-delay limit is the investigator's documented decision.

Beyond 14 days on hold, or a cycle 14 days late, the plan proposes discontinuation. Ending the
wait (a resumption, day-1 criteria found met) would make that proposal vanish, so it needs the
investigator's reason, kept in the audit trail. Through the services, on SQLite and PostgreSQL;
the subject's cycle 2 is due 2026-02-23, and the clock reads 2026-03-20 noon in Shanghai."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from scheduler.errors import InputError
from scheduler.kernel.subject_state import plan_for
from scheduler.models import AuditEntry, Day1Check, Resumption
from scheduler.pharmacy.accountability import confirm_day1
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold, resume

LATER = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)


@pytest.fixture
def later(units):
    """``with later() as unit``: a unit of work on 2026-03-20."""
    return lambda: units(actor="investigator", now=LATER)


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-02", surgery="2026-01-05", site_code="ZJU1")
    return "S-001"


def _overrides(later) -> list[tuple[str, str, list[str], str]]:
    with later() as unit:
        rows = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "treatment.limit_override")
        ).all()
        return [(r.entity, r.actor, json.loads(r.new_value or "{}")["limits_passed"], r.reason)
                for r in rows]  # fmt: skip


def _count(later, table) -> int:
    with later() as unit:
        return unit.session.exec(select(func.count()).select_from(table)).one()


def test_a_hold_of_18_days_beyond_the_14_day_limit_is_not_resumed_without_a_reason(later, subject):
    with later() as unit:
        hold(unit, subject, start="2026-02-05", reason="grade 3 hypertension")
    with pytest.raises(InputError) as refused, later() as unit:
        resume(unit, subject, on="2026-02-23", dose_mg=10)

    assert refused.value.field == "reason"
    assert refused.value.reason == (
        "the hold from 2026-02-05 lasted 18 days, 4 over the 14-day limit: "
        "give the investigator's reason to continue treatment"
    )
    assert _count(later, Resumption) == 0
    with later() as unit:
        plan = plan_for(unit.session, subject, unit.now)
    assert plan.status == "on_hold" and "hold-limit" in [p.rule_id for p in plan.proposals]


def test_with_the_investigator_s_reason_the_resumption_is_accepted_and_the_override_audited(
    later, subject
):
    with later() as unit:
        hold(unit, subject, start="2026-02-05", reason="grade 3 hypertension")
    with later() as unit:
        resume(unit, subject, on="2026-02-23", dose_mg=10, reason="BP controlled; PI: continue")

    assert _count(later, Resumption) == 1
    assert _overrides(later) == [
        (
            "resumption",
            "investigator",
            ["the hold from 2026-02-05 lasted 18 days, 4 over the 14-day limit"],
            "BP controlled; PI: continue",
        )
    ]


def test_a_hold_within_the_limit_is_resumed_without_a_reason(later, subject):
    with later() as unit:
        hold(unit, subject, start="2026-02-05", reason="grade 3 hypertension")
    with later() as unit:
        resume(unit, subject, on="2026-02-19")  # 14 days: at the limit, not beyond

    assert _count(later, Resumption) == 1 and _overrides(later) == []


def test_a_resumption_that_starts_a_cycle_beyond_the_delay_limit_says_so_too(later, subject):
    with later() as unit:
        hold(unit, subject, start="2026-02-20", reason="grade 3 proteinuria")  # C2 due 02-23
    with pytest.raises(InputError) as refused, later() as unit:
        resume(unit, subject, on="2026-03-10")

    assert refused.value.reason == (
        "the hold from 2026-02-20 lasted 18 days, 4 over the 14-day limit; cycle 2 starts "
        "15 days late, 1 over the 14-day delay limit: give the investigator's reason to "
        "continue treatment"
    )
    with later() as unit:
        resume(unit, subject, on="2026-03-10", reason="proteinuria < 1 g/24 h; PI: continue")
    assert [passed for _, _, passed, _ in _overrides(later)] == [
        [
            "the hold from 2026-02-20 lasted 18 days, 4 over the 14-day limit",
            "cycle 2 starts 15 days late, 1 over the 14-day delay limit",
        ]
    ]


def test_day_1_criteria_met_after_a_delay_beyond_the_limit_need_the_investigator_s_reason(
    units, later, subject
):
    with units(now=datetime(2026, 2, 23, 4, 0, tzinfo=UTC)) as unit:
        confirm_day1(unit, subject, cycle=2, met=False, reason="ANC 1.1")
    with pytest.raises(InputError) as refused, later() as unit:
        confirm_day1(unit, subject, cycle=2, met=True)

    assert refused.value.field == "reason"
    assert refused.value.reason == (
        "cycle 2 starts 25 days late, 11 over the 14-day delay limit: "
        "give the investigator's reason to continue treatment"
    )
    assert _count(later, Day1Check) == 1
    with later() as unit:
        confirm_day1(unit, subject, cycle=2, met=True, reason="ANC 1.6; PI: continue")
    with later() as unit:
        c2 = plan_for(unit.session, subject, unit.now).cycles[1]
    assert (c2.day1, c2.delay_days, c2.tentative) == (LATER.date(), 25, False)
    assert _overrides(later) == [
        (
            "day1check",
            "investigator",
            ["cycle 2 starts 25 days late, 11 over the 14-day delay limit"],
            "ANC 1.6; PI: continue",
        )
    ]


def test_day_1_criteria_met_within_the_delay_limit_need_no_reason(units, later, subject):
    with units(now=datetime(2026, 2, 23, 4, 0, tzinfo=UTC)) as unit:
        confirm_day1(unit, subject, cycle=2, met=False, reason="ANC 1.1")
    with later() as unit:
        confirm_day1(unit, subject, cycle=2, met=True, on="2026-03-09")  # 14 days late

    assert _count(later, Day1Check) == 2 and _overrides(later) == []
