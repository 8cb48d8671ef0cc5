"""What the pharmacy pages show around the preparation list: for each row, the dispensing behind
its status and the previous cycle's capsules that come back at the same visit; and one subject's
drug accountability, cycle by cycle. Everything is read with the functions behind ``dosing
pharmacy`` and ``dosing accountability``, so the pages and the CLI cannot disagree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from scheduler import core
from scheduler.clock import local_today
from scheduler.core.accountability import (
    DoseSummary,
    Reconciliation,
    ReportCounts,
    relative_dose_intensity,
)
from scheduler.core.cycles import CyclePlan
from scheduler.core.dose_changes import may_prepare
from scheduler.kernel.subject_state import SubjectState, subject_state
from scheduler.models import Dispensing, DrugReturn, Preparation, Subject
from scheduler.patients.counts import dose_report_counts
from scheduler.pharmacy.accountability import load_records, need_for, reconcile, strengths
from scheduler.pharmacy.capsules import CapsuleLine, capsules_for
from scheduler.pharmacy.preparation_list import PreparationRow

_NOT_STARTED_OR_RUNNING = ("planned", "in_progress")


@dataclass(frozen=True)
class DispenseLine:
    """One strength the plan needs for a cycle, and the dispensing of it already recorded (a
    new one is then a correction and needs a reason)."""

    strength_mg: float
    count: int
    recorded: Dispensing | None


@dataclass(frozen=True)
class RowView:
    row: PreparationRow
    today: date
    """At the subject's site: the default date of a dispensing or a count."""
    dispensed: tuple[Dispensing, ...]
    to_dispense: tuple[DispenseLine, ...]
    awaiting_count: tuple[Dispensing, ...]
    """The previous cycle's capsules not yet counted back: the subject brings them to this
    cycle's day 1 visit."""


def row_views(session: Session, now: datetime, rows: Sequence[PreparationRow]) -> list[RowView]:
    """The records behind the rows, with one query per record table."""
    codes = sorted({row.subject for row in rows})
    if not codes:
        return []
    found = session.exec(
        select(Subject.code, Subject.id, Subject.time_zone).where(col(Subject.code).in_(codes))
    ).all()
    ids = {code: subject_id or 0 for code, subject_id, _ in found}
    todays = {code: local_today(now, zone) for code, _, zone in found}
    # Only what the forms show: the dispensings and the counts back.
    records = load_records(session, list(ids.values()), (Dispensing, DrugReturn))
    views = []
    for row in rows:
        mine = records[ids[row.subject]]
        dispensed = mine.dispensed(row.cycle)
        previous = mine.dispensed(row.cycle - 1)
        counted = mine.returned(row.cycle - 1)
        views.append(
            RowView(
                row=row,
                today=todays[row.subject],
                dispensed=tuple(dispensed[s] for s in sorted(dispensed)),
                to_dispense=tuple(
                    DispenseLine(line.strength_mg, line.count, dispensed.get(line.strength_mg))
                    for line in row.capsules
                ),
                awaiting_count=tuple(previous[s] for s in sorted(previous) if s not in counted),
            )
        )
    return views


@dataclass(frozen=True)
class StrengthAccount:
    """One strength dispensed for a cycle: the latest dispensing, the latest count back, and
    how that count compares with the doses recorded taken."""

    dispensing: Dispensing
    returned: DrugReturn | None
    reconciliation: Reconciliation


@dataclass(frozen=True)
class CycleAccount:
    cycle: CyclePlan
    prepared: tuple[Preparation, ...]
    """The latest preparation per strength, unless it was returned to stock."""
    strengths: tuple[StrengthAccount, ...]


@dataclass(frozen=True)
class SubjectAccount:
    state: SubjectState
    plan: core.Plan
    cycles: tuple[CycleAccount, ...]
    doses: DoseSummary
    reports: ReportCounts
    """The patient's own reports beside the verified dose records."""
    capsule_strengths: tuple[str, ...]
    """Every strength of the protocol, written as the forms send it ("12", not "12.0")."""
    preparable: tuple[int, ...] = ()
    """Cycles ``may_prepare`` allows today: the ones the preparation form offers."""

    @property
    def on_shelf(self) -> list[int]:
        return [c.cycle.number for c in self.cycles if c.prepared]

    @property
    def dispensed(self) -> list[int]:
        return [c.cycle.number for c in self.cycles if c.strengths]

    @property
    def with_discrepancy(self) -> list[int]:
        return [
            c.cycle.number
            for c in self.cycles
            if any(s.reconciliation.discrepancy for s in c.strengths)
        ]

    @property
    def dose_line(self) -> CapsuleLine:
        """A cycle's capsules of the (first) strength the current dose is made of: what the
        forms offer until the pharmacist chooses otherwise."""
        return capsules_for(self.state.protocol, self.plan.dose_mg)[1][0]


def subject_account(session: Session, code: str, now: datetime) -> SubjectAccount:
    state = subject_state(session, code, now)
    plan = state.plan()
    sid = state.subject.id or 0
    records = load_records(session, [sid])[sid]
    reconciled = {(r.cycle, r.strength_mg): r for r in reconcile(plan, records)}
    cycles = []
    for cycle in plan.cycles:
        prepared = records.prepared(cycle.number)
        dispensed = records.dispensed(cycle.number)
        returned = records.returned(cycle.number)
        lines = tuple(
            StrengthAccount(dispensed[s], returned.get(s), reconciled[(cycle.number, s)])
            for s in sorted(dispensed)
        )
        cycles.append(CycleAccount(cycle, tuple(prepared[s] for s in sorted(prepared)), lines))
    preparable = []
    for cycle in plan.cycles:
        if cycle.status not in _NOT_STARTED_OR_RUNNING:
            continue
        need = need_for(plan, records, cycle)
        if may_prepare(plan, cycle, need.needed_on, plan.today).allowed:
            preparable.append(cycle.number)
    return SubjectAccount(
        state=state,
        plan=plan,
        cycles=tuple(cycles),
        doses=relative_dose_intensity(plan),
        reports=dose_report_counts(session, plan, sid),
        capsule_strengths=tuple(f"{s:g}" for s in sorted(strengths(state.protocol))),
        preparable=tuple(preparable),
    )
