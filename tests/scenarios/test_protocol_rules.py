"""The protocol's rules as the services apply them: limit overrides, drug accountability, dose
intensity and patient reminders, from plans of the anlotinib subject (see conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from scheduler.core import DoseOutcome, History, HoldEnd, HoldStart
from scheduler.core.accountability import reconciliation, relative_dose_intensity
from scheduler.core.limit_overrides import limits_passed
from scheduler.core.reminders import wanted_reminders
from scheduler.core.times import local_instant


@dataclass(frozen=True)
class Count:
    cycle: int
    strength_mg: float
    capsule_count: int
    recorded_at: datetime


@dataclass(frozen=True)
class Reviewed:
    cycle: int
    recorded_at: datetime


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def taken(days: list[date]) -> tuple[DoseOutcome, ...]:
    return tuple(DoseOutcome(id=n, on=on, taken=True) for n, on in enumerate(days, start=1))


def test_a_hold_longer_than_14_days_needs_the_investigator_s_reason(plan, day):
    held = History(holds=(HoldStart(id=1, on=day(2, 3), reason="toxicity"),))
    resumed = History(holds=held.holds, resumptions=(HoldEnd(id=1, on=day(2, 21)),))
    today = day(2, 21)

    passed = limits_passed(plan(today, held), plan(today, resumed))

    assert passed == [f"the hold from {day(2, 3)} lasted 18 days, 4 over the 14-day limit"]


def test_a_hold_of_14_days_is_resumed_without_a_reason(plan, day):
    held = History(holds=(HoldStart(id=1, on=day(2, 3), reason="toxicity"),))
    resumed = History(holds=held.holds, resumptions=(HoldEnd(id=1, on=day(2, 17)),))

    assert limits_passed(plan(day(2, 17), held), plan(day(2, 17), resumed)) == []


def test_a_resumption_that_starts_a_cycle_more_than_14_days_late_needs_a_reason(plan, day):
    held = History(holds=(HoldStart(id=1, on=day(2, 10), reason="toxicity"),))
    resumed = History(holds=held.holds, resumptions=(HoldEnd(id=1, on=day(3, 17)),))
    today = day(3, 17)

    passed = limits_passed(plan(today, held), plan(today, resumed))

    assert "cycle 3 starts 16 days late, 2 over the 14-day delay limit" in passed


def test_capsules_not_returned_are_a_discrepancy_until_reviewed(plan, day):
    history = History(doses=taken([day(1, n) for n in range(1, 15)]))
    current = plan(day(2, 1), history)
    out = Count(cycle=1, strength_mg=12, capsule_count=14, recorded_at=at(day(1, 1)))
    back = Count(cycle=1, strength_mg=12, capsule_count=1, recorded_at=at(day(2, 1)))

    (line,) = reconciliation(current, dispensed=[out], returned=[back], reviews=[])

    assert (line.dispensed, line.taken_capsules, line.expected_return) == (14, 14, 0)
    assert line.discrepancy == 1
    assert not line.reviewed
    reviewed = Reviewed(cycle=1, recorded_at=at(day(2, 1), 10))
    (line,) = reconciliation(current, dispensed=[out], returned=[back], reviews=[reviewed])
    assert line.reviewed


def test_the_latest_count_of_a_cycle_and_strength_is_the_one_that_counts(plan, day):
    current = plan(day(2, 1), History(doses=taken([day(1, 1), day(1, 2)])))
    first = Count(cycle=1, strength_mg=12, capsule_count=20, recorded_at=at(day(1, 1)))
    corrected = Count(cycle=1, strength_mg=12, capsule_count=14, recorded_at=at(day(1, 1), 10))

    (line,) = reconciliation(current, dispensed=[first, corrected], returned=[], reviews=[])

    assert (line.dispensed, line.expected_return, line.returned, line.discrepancy) == (
        14,
        12,
        None,
        None,
    )


def test_relative_dose_intensity_counts_taken_and_late_doses_against_the_starting_dose(plan, day):
    records = taken([day(1, n) for n in range(1, 8)])
    history = History(
        doses=(*records, DoseOutcome(id=99, on=day(1, 8), taken=False)),
    )

    summary = relative_dose_intensity(plan(day(1, 15), history))

    (cycle1,) = summary.cycles
    assert cycle1.planned_mg == 12 * 14
    assert cycle1.taken_mg == 12 * 7
    assert cycle1.relative_dose_intensity == 0.5
    assert summary.relative_dose_intensity == 0.5
    assert (summary.taken, summary.missed, summary.held) == (7, 1, 0)


def test_relative_dose_intensity_is_none_before_cycle_1_starts(plan, day):
    assert (
        relative_dose_intensity(plan(day(1, 1) - timedelta(days=3))).relative_dose_intensity is None
    )


def test_a_dose_reminder_is_wanted_for_each_planned_dose_within_the_horizon(plan, day):
    current = plan(day(1, 1))
    now = local_instant(day(1, 1), time(7), current.anchors.time_zone)

    wanted = wanted_reminders(
        current,
        now,
        horizon_days=3,
        dose_grace_hours=None,
        visit_time=time(18),
        visit_grace_hours=12,
    )

    doses = [w for w in wanted if w.kind == "dose"]
    assert [w.item_key for w in doses] == ["C1D1", "C1D2", "C1D3"]
    assert doses[0].expires_at - doses[0].due_at == timedelta(hours=12)
    assert doses[0].body == f"ZJU1-001, {day(1, 1)}: take your 12 mg dose due at 08:00."


def test_no_reminder_is_wanted_for_a_held_dose_and_the_grace_may_be_shortened(plan, day):
    history = History(holds=(HoldStart(id=1, on=day(1, 2), reason="toxicity"),))
    current = plan(day(1, 1), history)
    now = local_instant(day(1, 1), time(7), current.anchors.time_zone)

    wanted = wanted_reminders(
        current, now, horizon_days=3, dose_grace_hours=2, visit_time=time(18), visit_grace_hours=12
    )

    doses = [w for w in wanted if w.kind == "dose"]
    assert [w.item_key for w in doses] == ["C1D1"]
    assert doses[0].expires_at - doses[0].due_at == timedelta(hours=2)


def test_a_visit_reminder_the_evening_before_names_only_generic_things_to_bring(plan, day):
    current = plan(day(1, 14))
    now = local_instant(day(1, 14), time(7), current.anchors.time_zone)

    wanted = wanted_reminders(
        current,
        now,
        horizon_days=2,
        dose_grace_hours=None,
        visit_time=time(18),
        visit_grace_hours=12,
    )

    (visit,) = [w for w in wanted if w.kind == "visit"]
    assert visit.item_key == "C1D15"
    assert visit.due_at == local_instant(day(1, 14), time(18), current.anchors.time_zone)
    assert visit.body == (
        f"ZJU1-001, {day(1, 15)}: clinic visit tomorrow. "
        "Please bring: dosing diary, blood pressure log."
    )
