"""The pharmacy preparation list: which capsules to prepare, for whom, by when. It is computed
from each subject's current plan and the pharmacy records, so a hold or a discontinuation
recorded today changes it at once: a subject on hold or stopped on the prepare-by date is never
marked "to prepare", and capsules already prepared for a plan that has since changed stay on the
list as "prepared, plan changed" until they are returned to stock or relabelled.

Whether a row may be prepared today is ``core.dose_changes.may_prepare``, the very rule the
"prepare" action applies, so the list never offers what the action refuses; where it is not
yet allowed (on hold, with the resumption recorded), the row says from which day it will be.
A cycle whose day 1 passed with nothing dispensed stays on the list as overdue until it is
dispensed or marked not needed; so does a dose changed in the middle of a cycle, whose new
strength is dispensed unscheduled, by the resumption date."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from scheduler import core
from scheduler.core.accountability import Reconciliation
from scheduler.core.cycles import CyclePlan
from scheduler.core.dose_changes import MidCycleChange, Readiness, may_prepare
from scheduler.kernel.subject_state import SubjectState
from scheduler.pharmacy.accountability import (
    Need,
    Records,
    need_for,
    on_shelf_for,
    open_discrepancies,
    reconcile,
    refusal,
)
from scheduler.pharmacy.capsules import CapsuleLine, capsules_for
from scheduler.pharmacy.working_days import working_days_before

DEFAULT_DAYS = 7
TO_PREPARE = "to prepare"
DO_NOT_PREPARE = "do not prepare"
NOT_YET = "not yet"
"""Preparing is allowed from ``PreparationRow.prepare_from`` on (a recorded resumption)."""
PREPARED = "prepared"
PLAN_CHANGED = "prepared, plan changed"
DISPENSED = "dispensed"
ON_HOLD = "on hold (do not prepare)"
STOPPED = "discontinued (do not dispense)"
DOSE_REDUCED = "dose reduced since last cycle (check strength)"
DAY1_UNCONFIRMED = "day-1 criteria not yet confirmed"
DAY1_NOT_MET = "day-1 criteria not met"
OVERDUE = "overdue: nothing dispensed yet"
MID_CYCLE = "new strength mid-cycle"
URGENT = "urgent: dose changed mid-cycle"


@dataclass(frozen=True)
class PreparationRow:
    subject: str
    site: str
    cycle: int
    day1: date
    window_start: date
    window_end: date
    dose_mg: float
    dose_level: int | None
    capsules: tuple[CapsuleLine, ...]
    prepare_by: date
    status: str
    flags: tuple[str, ...]
    prepared: tuple[CapsuleLine, ...] = ()
    """What is on the shelf for this cycle, when something is."""
    prepare_from: date | None = None
    """With status "not yet": the first day preparing is allowed."""
    refusal: str = ""
    """Why it may not be prepared today, as the "prepare" action would say it."""
    overdue: bool = False
    """The capsules were due and nothing is dispensed: listed until dispensed or marked not
    needed."""
    unscheduled: bool = False
    """The new strength of a dose changed mid-cycle, dispensed outside the day-1 visits."""
    expected_back: tuple[CapsuleLine, ...] = ()
    """Unscheduled only: old-strength capsules the patient brings back at the next visit."""


@dataclass(frozen=True)
class StrengthTotal:
    strength_mg: float
    count: int


@dataclass(frozen=True)
class PreparationList:
    site: str | None
    start: date
    end: date
    rows: tuple[PreparationRow, ...]
    totals: tuple[StrengthTotal, ...]
    """Capsules per strength over the rows still to prepare, for stock planning."""
    discrepancies: tuple[Reconciliation, ...] = ()
    """Dispensed-versus-returned differences nobody has reviewed yet."""
    more: int = 0
    """Rows left out after the first ones asked for (the totals count them all)."""


def _stopped_by(plan: core.Plan, day: date) -> bool:
    stop = plan.discontinuation
    return stop is not None and stop.on <= day


def _held_on(plan: core.Plan, day: date) -> bool:
    return any(period.covers(day) for period in plan.holds)


def _day1_flags(plan: core.Plan, records: Records, cycle: int) -> list[str]:
    if not plan.protocol.day1_criteria:
        return []
    check = records.day1_check(cycle)
    if check is None:
        return [DAY1_UNCONFIRMED]
    return [] if check.met else [f"{DAY1_NOT_MET}: {check.reason}"]


def _status(
    ready: Readiness, on_shelf: Mapping[float, object], dispensed: bool, changed: bool
) -> str:
    if dispensed:
        return DISPENSED
    if on_shelf:
        return PLAN_CHANGED if changed else PREPARED
    if ready.allowed:
        return TO_PREPARE
    return NOT_YET if ready.from_day is not None else DO_NOT_PREPARE


def _hold_flags(plan: core.Plan, ready: Readiness, needed_on: date) -> list[str]:
    """As ``may_prepare`` reads the holds: today, and the day the capsules are needed."""
    if ready.from_day is not None:
        return [f"on hold until {ready.from_day}: prepare from {ready.from_day}"]
    return [ON_HOLD] if _held_on(plan, plan.today) or _held_on(plan, needed_on) else []


def _row(
    plan: core.Plan,
    site: str,
    cycle: CyclePlan,
    previous_dose: float | None,
    records: Records,
    holidays: Collection[date],
) -> PreparationRow:
    protocol = plan.protocol
    prepare_by = working_days_before(cycle.day1, protocol.pharmacy.lead_working_days, holidays)
    visit = plan.visit(f"C{cycle.number}D1")
    ready = may_prepare(plan, cycle, cycle.day1, plan.today)
    stopped = _stopped_by(plan, prepare_by) or cycle.status in ("stopped", "cancelled")
    flags = _hold_flags(plan, ready, cycle.day1)
    if stopped:
        flags.append(STOPPED)
    if previous_dose is not None and cycle.dose_mg < previous_dose:
        flags.append(DOSE_REDUCED)
    flags.extend(_day1_flags(plan, records, cycle.number))
    level, lines = capsules_for(protocol, cycle.dose_mg)
    on_shelf = records.prepared(cycle.number)
    prepared = tuple(CapsuleLine(s, p.capsule_count) for s, p in sorted(on_shelf.items()))
    dispensed = bool(records.dispensed(cycle.number))
    overdue = (
        cycle.day1 < plan.today
        and not dispensed
        and records.waived(cycle.number, cycle.day1) is None
    )
    if overdue:
        flags.append(OVERDUE)
    gone = not ready.allowed and ready.from_day is None and not overdue
    same_day1 = all(p.day1 == cycle.day1 for p in on_shelf.values())
    changed = gone or stopped or not same_day1 or set(prepared) != set(lines)
    return PreparationRow(
        subject=plan.subject,
        site=site,
        cycle=cycle.number,
        day1=cycle.day1,
        window_start=visit.window_start if visit and visit.dispense else cycle.day1,
        window_end=visit.window_end if visit and visit.dispense else cycle.day1,
        dose_mg=cycle.dose_mg,
        dose_level=level,
        capsules=lines,
        prepare_by=prepare_by,
        status=_status(ready, on_shelf, dispensed, changed),
        flags=tuple(flags),
        prepared=prepared,
        prepare_from=ready.from_day,
        refusal="" if ready.allowed else refusal(ready),
        overdue=overdue,
    )


def _expected_back(
    plan: core.Plan, records: Records, change: MidCycleChange
) -> tuple[CapsuleLine, ...]:
    """The old strength dispensed for the cycle, less what the doses before the change used:
    what the patient no longer takes and brings back at the next visit."""
    back = []
    for line in reconcile(plan, records):
        if line.cycle != change.cycle or line.strength_mg not in _strengths(plan, change.before_mg):
            continue
        unused = line.dispensed - _used_before(plan, change, line.strength_mg)
        if unused > 0:
            back.append(CapsuleLine(line.strength_mg, unused))
    return tuple(back)


def _strengths(plan: core.Plan, dose_mg: float) -> set[float]:
    return {line.strength_mg for line in capsules_for(plan.protocol, dose_mg)[1]}


def _used_before(plan: core.Plan, change: MidCycleChange, strength: float) -> int:
    """Capsules of ``strength`` the doses before the change need (taken or still to be taken,
    not held): the rest of the cycle's supply is not taken any more."""
    level = plan.protocol.level_for(change.before_mg)
    per_dose = sum(u.count for u in level.units if u.strength_mg == strength) if level else 0
    cycle = plan.cycles[change.cycle - 1]
    before = [
        slot
        for slot in cycle.doses
        if slot.date < change.resumed_on and slot.status not in ("held", "cancelled")
    ]
    return per_dose * len(before)


def _change_row(
    plan: core.Plan, site: str, need: Need, records: Records, holidays: Collection[date]
) -> PreparationRow:
    """The unscheduled dispensing of a dose changed mid-cycle: prepared by the resumption date;
    urgent when the lead time before that date had passed before preparing was allowed."""
    change = need.change
    assert change is not None
    cycle = need.cycle
    protocol = plan.protocol
    ready = may_prepare(plan, cycle, need.needed_on, plan.today)
    lead_day = working_days_before(need.needed_on, protocol.pharmacy.lead_working_days, holidays)
    flags = [f"{MID_CYCLE}: {change.label}"]
    if lead_day < (ready.from_day or plan.today):
        flags.append(URGENT)
    flags.extend(_hold_flags(plan, ready, need.needed_on))
    overdue = need.needed_on < plan.today
    if overdue:
        flags.append(OVERDUE)
    expected_back = _expected_back(plan, records, change)
    if expected_back:
        returned = " + ".join(f"{c.count} x {c.strength_mg:g} mg" for c in expected_back)
        flags.append(f"old capsules back at the next visit: {returned}")
    lines = tuple(CapsuleLine(s, n) for s, n in sorted(need.lines.items()))
    on_shelf = on_shelf_for(records, need)
    prepared = tuple(CapsuleLine(s, p.capsule_count) for s, p in sorted(on_shelf.items()))
    gone = not ready.allowed and ready.from_day is None
    return PreparationRow(
        subject=plan.subject,
        site=site,
        cycle=cycle.number,
        day1=cycle.day1,
        window_start=need.needed_on,
        window_end=need.needed_on,
        dose_mg=change.after_mg,
        dose_level=level.level if (level := protocol.level_for(change.after_mg)) else None,
        capsules=lines,
        prepare_by=need.needed_on,
        status=_status(ready, on_shelf, False, gone or set(prepared) != set(lines)),
        flags=tuple(flags),
        prepared=prepared,
        prepare_from=ready.from_day,
        refusal="" if ready.allowed else refusal(ready),
        overdue=overdue,
        unscheduled=True,
        expected_back=expected_back,
    )


def rows_for_plan(
    plan: core.Plan,
    site: str,
    start: date,
    end: date,
    holidays: Collection[date],
    records: Records | None = None,
) -> list[PreparationRow]:
    """Rows for one subject: every cycle yet to start whose prepare-by date is in range (none
    once stopped), any cycle whose prepared capsules no longer match the plan, any cycle whose
    capsules are overdue, and the new strength of a dose changed mid-cycle until dispensed."""
    records = records or Records()
    rows: list[PreparationRow] = []
    previous_dose: float | None = None
    for cycle in plan.cycles:
        before, previous_dose = previous_dose, cycle.dose_mg
        if cycle.tentative and cycle.day1 < plan.today:
            continue
        need = need_for(plan, records, cycle)
        if need.change is not None:
            rows.append(_change_row(plan, site, need, records, holidays))
            continue
        upcoming = cycle.status in ("planned", "in_progress") and cycle.day1 >= plan.today
        started = cycle.status in ("in_progress", "completed") and cycle.day1 < plan.today
        if not upcoming and not started and not records.prepared(cycle.number):
            continue
        row = _row(plan, site, cycle, before, records, holidays)
        in_range = start <= row.prepare_by <= end and not _stopped_by(plan, row.prepare_by)
        if row.status == PLAN_CHANGED or row.overdue or (upcoming and in_range):
            rows.append(row)
    return rows


def totals(rows: Collection[PreparationRow]) -> tuple[StrengthTotal, ...]:
    counts: dict[float, int] = {}
    for row in rows:
        if row.status != TO_PREPARE:
            continue
        for line in row.capsules:
            counts[line.strength_mg] = counts.get(line.strength_mg, 0) + line.count
    return tuple(StrengthTotal(s, counts[s]) for s in sorted(counts))


def subject_rows(
    state: SubjectState, records: Records, first: date, last: date, holidays: Collection[date]
) -> tuple[list[PreparationRow], list[Reconciliation]]:
    """One subject's part of the list, however it is drawn: derived on each request, or kept
    for the day (``kept_rows``)."""
    plan = state.plan()
    rows = rows_for_plan(plan, state.site.code, first, last, holidays, records)
    return rows, open_discrepancies(plan, records)


def sort_key(row: PreparationRow) -> tuple[date, str, int]:
    """Soonest prepare-by first."""
    return (row.prepare_by, row.subject, row.cycle)
