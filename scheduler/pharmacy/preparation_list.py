"""The pharmacy preparation list: which capsules to prepare, for whom, by when. It is computed
from each subject's current plan and the pharmacy records, so a hold or a discontinuation
recorded today changes it at once: a subject on hold or stopped on the prepare-by date is never
marked "to prepare", and capsules already prepared for a plan that has since changed stay on the
list as "prepared, plan changed" until they are returned to stock or relabelled."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from scheduler import core
from scheduler.clock import local_today
from scheduler.core.accountability import Reconciliation
from scheduler.core.cycles import CyclePlan
from scheduler.errors import InputError
from scheduler.kernel.sites import get_site
from scheduler.kernel.subject_state import all_subjects, states
from scheduler.pharmacy.accountability import Records, load_records, open_discrepancies
from scheduler.pharmacy.capsules import CapsuleLine, capsules_for
from scheduler.pharmacy.working_days import working_days_before

DEFAULT_DAYS = 7
TO_PREPARE = "to prepare"
DO_NOT_PREPARE = "do not prepare"
PREPARED = "prepared"
PLAN_CHANGED = "prepared, plan changed"
DISPENSED = "dispensed"
ON_HOLD = "on hold (do not prepare)"
STOPPED = "discontinued (do not dispense)"
DOSE_REDUCED = "dose reduced since last cycle (check strength)"
DAY1_UNCONFIRMED = "day-1 criteria not yet confirmed"
DAY1_NOT_MET = "day-1 criteria not met"

__all__ = ["CapsuleLine", "capsules_for", "preparation_list"]


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
    held = _held_on(plan, prepare_by) or _held_on(plan, cycle.day1)
    stopped = _stopped_by(plan, prepare_by) or cycle.status in ("stopped", "cancelled")
    flags: list[str] = []
    if held:
        flags.append(ON_HOLD)
    if stopped:
        flags.append(STOPPED)
    if previous_dose is not None and cycle.dose_mg < previous_dose:
        flags.append(DOSE_REDUCED)
    flags.extend(_day1_flags(plan, records, cycle.number))
    level, lines = capsules_for(protocol, cycle.dose_mg)
    on_shelf = records.prepared(cycle.number)
    prepared = tuple(CapsuleLine(s, p.capsule_count) for s, p in sorted(on_shelf.items()))
    if records.dispensed(cycle.number):
        status = DISPENSED
    elif on_shelf:
        same_day1 = all(p.day1 == cycle.day1 for p in on_shelf.values())
        changed = held or stopped or not same_day1 or set(prepared) != set(lines)
        status = PLAN_CHANGED if changed else PREPARED
    else:
        status = DO_NOT_PREPARE if held or stopped else TO_PREPARE
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
        status=status,
        flags=tuple(flags),
        prepared=prepared,
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
    once stopped), plus any cycle whose prepared capsules no longer match the plan."""
    records = records or Records()
    rows: list[PreparationRow] = []
    previous_dose: float | None = None
    for cycle in plan.cycles:
        before, previous_dose = previous_dose, cycle.dose_mg
        upcoming = cycle.status in ("planned", "in_progress") and cycle.day1 >= plan.today
        if not upcoming and not records.prepared(cycle.number):
            continue
        row = _row(plan, site, cycle, before, records, holidays)
        in_range = start <= row.prepare_by <= end and not _stopped_by(plan, row.prepare_by)
        if row.status == PLAN_CHANGED or (upcoming and in_range):
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


def preparation_list(
    session: Session,
    now: datetime,
    *,
    site_code: str | None = None,
    start: date | None = None,
    end: date | None = None,
    holidays: Mapping[str, Collection[date]] | None = None,
) -> PreparationList:
    """The list for ``start``..``end`` (default: the next 7 days from today at the site)."""
    if start is None:
        zone = get_site(session, site_code).time_zone if site_code else "UTC"
        start = local_today(now, zone)
    if end is None:
        end = start + timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise InputError("to", f"{end} is before the start of the range {start}")
    subject_states = states(session, all_subjects(session, site_code), now)
    records = load_records(session, [s.subject.id or 0 for s in subject_states])
    rows: list[PreparationRow] = []
    discrepancies: list[Reconciliation] = []
    for state in subject_states:
        plan = state.plan()
        mine = records[state.subject.id or 0]
        closed = (holidays or {}).get(state.site.code, ())
        rows.extend(rows_for_plan(plan, state.site.code, start, end, closed, mine))
        discrepancies.extend(open_discrepancies(plan, mine))
    rows.sort(key=lambda r: (r.prepare_by, r.subject, r.cycle))
    return PreparationList(site_code, start, end, tuple(rows), totals(rows), tuple(discrepancies))
