"""What-if previews: what a hold, a resumption or a discontinuation would do to a subject's
plan, before anyone confirms it.

A preview runs the very service function the confirmation will run, in a transaction that is
always rolled back. So the preview applies the same checks (doses already recorded after the
hold start, an unknown adverse event, a dose level the protocol does not have) and shows the
same plan the confirmation will store; nothing can differ between what was shown and what is
done, except records other people add in between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import Engine
from sqlmodel import Session

from scheduler import core
from scheduler.core.dosing_days import DoseSlot
from scheduler.core.limit_overrides import limits_passed
from scheduler.kernel.sites import bind_account
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.unit import Unit
from scheduler.subjects.corrections import void_record
from scheduler.subjects.treatment import discontinue, hold, resume


@dataclass(frozen=True)
class DoseRun:
    """Consecutive dosing days of one cycle that change the same way."""

    cycle: int
    first_day: int
    last_day: int
    first: date
    last: date
    count: int
    tentative: bool


@dataclass(frozen=True)
class DateMove:
    what: str
    before: date
    after: date

    @property
    def days(self) -> int:
        return (self.after - self.before).days


@dataclass(frozen=True)
class LevelChange:
    """Consecutive doses of one cycle whose dose changes the same way: from the first dose
    affected, so a change in the middle of a cycle shows where it starts."""

    cycle: int
    before_mg: float
    after_mg: float
    first_day: int
    last_day: int
    count: int

    @property
    def label(self) -> str:
        """ "C2 D8-D14: 12 -> 10 mg, 7 doses" """
        days = f"D{self.first_day}" + (
            f"-D{self.last_day}" if self.last_day > self.first_day else ""
        )
        noun = "dose" if self.count == 1 else "doses"
        return (
            f"C{self.cycle} {days}: {self.before_mg:g} -> {self.after_mg:g} mg, {self.count} {noun}"
        )


@dataclass(frozen=True)
class PlanDiff:
    status_before: str
    status_after: str
    lost: tuple[DoseRun, ...]
    """Doses planned before and held or cancelled after."""
    restored: tuple[DoseRun, ...]
    """Doses held before and planned again after."""
    cycles_moved: tuple[DateMove, ...]
    visits_moved: tuple[DateMove, ...]
    levels: tuple[LevelChange, ...]

    @property
    def lost_count(self) -> int:
        return sum(run.count for run in self.lost)

    @property
    def restored_count(self) -> int:
        return sum(run.count for run in self.restored)

    @property
    def unchanged(self) -> bool:
        return (
            self.status_before == self.status_after
            and not (self.lost or self.restored or self.cycles_moved)
            and not (self.visits_moved or self.levels)
        )


@dataclass(frozen=True)
class Preview:
    before: core.Plan
    after: core.Plan
    diff: PlanDiff

    @property
    def limits_passed(self) -> list[str]:
        """The protocol limits the change continues past (an override: the investigator's
        reason, a confirmation and a signature with that reason)."""
        return limits_passed(self.before, self.after)


_OPEN = ("planned",)
_STOPPED = ("held", "cancelled")


def _runs(slots: list[DoseSlot]) -> tuple[DoseRun, ...]:
    runs: list[DoseRun] = []
    ordered = sorted(slots, key=lambda s: (s.cycle, s.day, s.slot))
    for _cycle, in_cycle in groupby(ordered, key=lambda s: s.cycle):
        current: list[DoseSlot] = []
        for slot in in_cycle:
            if current and slot.day > current[-1].day + 1:
                runs.append(_run(current))
                current = []
            current.append(slot)
        runs.append(_run(current))
    return tuple(runs)


def _run(slots: list[DoseSlot]) -> DoseRun:
    return DoseRun(
        cycle=slots[0].cycle,
        first_day=slots[0].day,
        last_day=slots[-1].day,
        first=slots[0].date,
        last=slots[-1].date,
        count=len(slots),
        tentative=any(s.tentative for s in slots),
    )


def diff_plans(before: core.Plan, after: core.Plan) -> PlanDiff:
    """What changes from ``before`` to ``after``: dose slots are matched by key (C2D9), cycles
    by number and visits by code, so a delayed cycle shows as a move, not as lost doses."""
    after_slots = {s.key: s for s in after.doses()}
    lost: list[DoseSlot] = []
    restored: list[DoseSlot] = []
    for slot in before.doses():
        later = after_slots.get(slot.key)
        if later is None:
            continue
        if slot.status in _OPEN and later.status in _STOPPED:
            lost.append(later)
        elif slot.status in _STOPPED and later.status in _OPEN:
            restored.append(later)
    after_cycles = {c.number: c for c in after.cycles}
    cycles_moved = []
    for cycle in before.cycles:
        other = after_cycles.get(cycle.number)
        if other is None:
            continue
        if other.day1 != cycle.day1:
            cycles_moved.append(DateMove(f"C{cycle.number}D1", cycle.day1, other.day1))
    levels = _level_changes(before, after_slots)
    visits_moved = []
    for visit in before.visits:
        moved = after.visit(visit.code)
        if moved is not None and moved.target != visit.target and moved.status != "cancelled":
            visits_moved.append(DateMove(visit.code, visit.target, moved.target))
    return PlanDiff(
        status_before=before.status,
        status_after=after.status,
        lost=_runs(lost),
        restored=_runs(restored),
        cycles_moved=tuple(cycles_moved),
        visits_moved=tuple(visits_moved),
        levels=tuple(levels),
    )


def _level_changes(before: core.Plan, after_slots: dict[str, DoseSlot]) -> tuple[LevelChange, ...]:
    """Doses still to be taken (or taken) after the change at another dose than before, in runs
    of consecutive days of one cycle at one pair of doses."""
    changed: list[tuple[DoseSlot, DoseSlot]] = []
    for slot in before.doses():
        later = after_slots.get(slot.key)
        if later is None or later.status in _STOPPED or later.dose_mg == slot.dose_mg:
            continue
        changed.append((slot, later))
    levels: list[LevelChange] = []
    run: list[tuple[DoseSlot, DoseSlot]] = []
    for pair in changed:
        old, new = pair
        if run:
            last_old, last_new = run[-1]
            same = (last_new.cycle, last_old.dose_mg, last_new.dose_mg) == (
                new.cycle,
                old.dose_mg,
                new.dose_mg,
            )
            if not same or new.day > last_new.day + 1:
                levels.append(_level(run))
                run = []
        run.append(pair)
    if run:
        levels.append(_level(run))
    return tuple(levels)


def _level(run: list[tuple[DoseSlot, DoseSlot]]) -> LevelChange:
    first_old, first_new = run[0]
    return LevelChange(
        cycle=first_new.cycle,
        before_mg=first_old.dose_mg,
        after_mg=first_new.dose_mg,
        first_day=first_new.day,
        last_day=run[-1][1].day,
        count=len(run),
    )


@contextmanager
def _discarded_unit(engine: Engine, actor: str, now: datetime) -> Iterator[Unit]:
    """A unit of work whose writes are always rolled back, and whose derived rows are never
    refreshed: the change is tried, never kept. It sees only the sites of the staff account
    ``actor``, as every unit of the web does."""
    with Session(engine, expire_on_commit=False) as session:
        session.begin()
        bind_account(session, actor)
        try:
            yield Unit(session=session, actor=actor, now=now)
        finally:
            session.rollback()


def _preview(
    engine: Engine, actor: str, now: datetime, code: str, change: Callable[[Unit], core.Plan]
) -> Preview:
    with _discarded_unit(engine, actor, now) as unit:
        before = subject_state(unit.session, code, unit.now).plan()
        after = change(unit)
    return Preview(before=before, after=after, diff=diff_plans(before, after))


def preview_hold(
    engine: Engine,
    actor: str,
    now: datetime,
    code: str,
    *,
    start: str | date,
    reason: str,
    adverse_event_id: int | None = None,
) -> Preview:
    """What ``treatment.hold`` with these values would do; raises what it would raise."""
    return _preview(
        engine,
        actor,
        now,
        code,
        lambda unit: hold(
            unit, code, start=start, reason=reason, adverse_event_id=adverse_event_id
        ),
    )


def preview_resume(
    engine: Engine,
    actor: str,
    now: datetime,
    code: str,
    *,
    on: str | date,
    dose_mg: float | None = None,
    reason: str = "",
) -> Preview:
    """What ``treatment.resume`` with these values would do; raises what it would raise."""
    return _preview(
        engine,
        actor,
        now,
        code,
        lambda unit: resume(unit, code, on=on, dose_mg=dose_mg, reason=reason),
    )


def preview_discontinue(
    engine: Engine, actor: str, now: datetime, code: str, *, on: str | date, reason: str
) -> Preview:
    """What ``treatment.discontinue`` would do (every planned dose and visit from ``on`` is
    cancelled, for good); raises what it would raise, a reason not chosen included."""
    return _preview(
        engine, actor, now, code, lambda unit: discontinue(unit, code, on=on, reason=reason)
    )


def preview_void(
    engine: Engine, actor: str, now: datetime, code: str, *, kind: str, record_id: int
) -> Preview:
    """What striking out ``kind`` record ``record_id`` would do to the plan; raises what
    ``void_record`` would raise (but for the reason, asked on the preview page)."""
    return _preview(
        engine,
        actor,
        now,
        code,
        lambda unit: void_record(unit, code, kind, record_id, "preview"),
    )
