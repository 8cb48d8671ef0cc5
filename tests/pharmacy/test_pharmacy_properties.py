"""Properties of the preparation list and reconciliation over generated histories (pure: plans
are built by the core, records are unsaved model objects, so no database is needed)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler import core
from scheduler.errors import RuleViolation
from scheduler.models import Dispensing, DrugReturn
from scheduler.pharmacy.accountability import Records, reconcile
from scheduler.pharmacy.preparation_list import TO_PREPARE, rows_for_plan

C1D1 = date(2026, 2, 2)
AT = datetime(2026, 1, 1, tzinfo=UTC)
ANCHORS = core.Anchors(
    subject="S-001", c1d1=C1D1, surgery=date(2026, 1, 5), time_zone=ZoneInfo("Asia/Shanghai")
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[core.History, date]:
    today = C1D1 + timedelta(days=draw(st.integers(0, 160)))
    holds, resumptions, stop = [], [], None
    if draw(st.booleans()):
        start = C1D1 + timedelta(days=draw(st.integers(1, 150)))
        holds.append(core.HoldStart(id=1, on=start, reason="toxicity"))
        if draw(st.booleans()):
            back = start + timedelta(days=draw(st.integers(1, 14)))
            dose = draw(st.sampled_from([None, 10.0, 8.0]))
            resumptions.append(core.HoldEnd(id=1, on=back, dose_mg=dose))
    if draw(st.booleans()):
        stop = core.TreatmentStop(
            id=1, on=C1D1 + timedelta(days=draw(st.integers(0, 160))), reason="withdrawal"
        )
    history = core.History(holds=tuple(holds), resumptions=tuple(resumptions), discontinuation=stop)
    return history, today


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drawn=histories(),
    holidays=st.lists(st.dates(C1D1, C1D1 + timedelta(days=200)), max_size=10),
)
def test_never_to_prepare_while_on_hold_or_stopped_today_or_when_the_capsules_are_needed(
    anlotinib, drawn, holidays
):
    """Today is when the "prepare" action would run; the capsules are needed at day 1, or at
    the first dose of a dose changed mid-cycle (an unscheduled row, prepared by that day). A
    hold known to end before day 1 does not stop a preparation that starts before it."""
    history, today = drawn
    try:
        plan = core.build_plan(anlotinib, ANCHORS, history, today)
    except RuleViolation:
        return  # a history the services would have refused
    rows = rows_for_plan(plan, "ZJU1", C1D1 - timedelta(days=30), date(2027, 12, 31), holidays)
    for row in rows:
        if row.status != TO_PREPARE:
            continue
        needed = row.prepare_by if row.unscheduled else row.day1
        for day in (today, needed):
            assert not any(period.covers(day) for period in plan.holds)
            assert plan.discontinuation is None or plan.discontinuation.on > day
        if not row.unscheduled:
            assert row.prepare_by.weekday() < 5 and row.prepare_by not in holidays


@settings(max_examples=100, deadline=None)
@given(taken=st.lists(st.lists(st.booleans(), min_size=14, max_size=14), min_size=1, max_size=3))
def test_dispensed_minus_returned_equals_doses_taken_when_records_agree(anlotinib, taken):
    doses = []
    for cycle, days in enumerate(taken):
        day1 = C1D1 + timedelta(days=21 * cycle)
        doses += [
            core.DoseOutcome(id=len(doses) + i, on=day1 + timedelta(days=i), taken=took)
            for i, took in enumerate(days)
        ]
    today = C1D1 + timedelta(days=21 * len(taken))
    plan = core.build_plan(anlotinib, ANCHORS, core.History(doses=tuple(doses)), today)
    dispensed = [
        Dispensing(subject_id=1, cycle=n + 1, dispensed_on=C1D1, strength_mg=12, capsule_count=14,
                   lot="L", expiry=date(2030, 1, 1), recorded_at=AT, recorded_by="p")
        for n in range(len(taken))
    ]  # fmt: skip
    returned = [
        DrugReturn(subject_id=1, cycle=n + 1, returned_on=today, strength_mg=12,
                   capsule_count=14 - sum(days), recorded_at=AT, recorded_by="p")
        for n, days in enumerate(taken)
    ]  # fmt: skip
    lines = reconcile(plan, Records(dispensings=tuple(dispensed), returns=tuple(returned)))
    assert all(line.discrepancy == 0 for line in lines)
    total = sum(line.dispensed - (line.returned or 0) for line in lines)
    assert total == sum(1 for slot in plan.doses() if slot.status in ("taken", "late"))
    assert total == sum(sum(days) for days in taken)
