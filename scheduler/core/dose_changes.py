"""Dose changes inside a cycle, and whether the pharmacy may prepare capsules on a given day.

A cycle's capsules are dispensed at its day 1 at the cycle's dose. A resumption at a new dose
level after that day 1 and before the cycle's last dosing day leaves the patient at home with
capsules of the old strength for doses now planned at the new one: those doses need capsules
the patient does not have yet, so the pharmacy dispenses them in the middle of the cycle.

Whether capsules may be prepared is decided here once, for the preparation list, its buttons,
the command line and every other face: an open hold or a discontinuation refuses, a hold whose
resumption is recorded allows it from the resumption on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scheduler.core.holds import HoldPeriod
from scheduler.core.outputs import CyclePlan, DoseSlot
from scheduler.core.plan import Plan

_NOT_TAKEN_AT_HOME = ("held", "cancelled")
"""Slots that need no capsule: the day is lost, or the treatment stopped."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MidCycleChange:
    """Doses of one cycle planned at a dose other than the one its day 1 was dispensed at."""

    cycle: int
    resumed_on: date
    """The resumption that changed the dose: capsules are needed by that day."""
    hold_start: date
    """When the hold before it began; a dispensing since then is for the new dose."""
    before_mg: float
    after_mg: float
    first_day: int
    last_day: int
    dose_dates: tuple[date, ...]
    """The days of the doses at the new level that need a capsule (not held or cancelled)."""

    @property
    def doses(self) -> int:
        return len(self.dose_dates)

    @property
    def label(self) -> str:
        """As a nurse or pharmacist reads it: "C2 D8-D14: 12 -> 10 mg, 7 doses"."""
        days = f"D{self.first_day}" + (
            f"-D{self.last_day}" if self.last_day != self.first_day else ""
        )
        noun = "dose" if self.doses == 1 else "doses"
        return (
            f"C{self.cycle} {days}: {self.before_mg:g} -> {self.after_mg:g} mg, {self.doses} {noun}"
        )


def _resumption_before(holds: tuple[HoldPeriod, ...], slot: DoseSlot) -> HoldPeriod | None:
    ended = [h for h in holds if h.end is not None and h.end <= slot.date]
    return max(ended, key=lambda h: h.end or date.min, default=None)


def _changes_in(plan: Plan, cycle: CyclePlan) -> list[MidCycleChange]:
    changes: list[MidCycleChange] = []
    current = cycle.dose_mg
    run: list[DoseSlot] = []
    period: HoldPeriod | None = None
    for slot in cycle.doses:
        if slot.status == "cancelled":
            continue
        if slot.dose_mg != current:
            if run and period is not None:
                changes.append(_change(cycle.number, period, _before(changes, cycle), run))
            period = _resumption_before(plan.holds, slot)
            current, run = slot.dose_mg, []
        if period is not None:
            run.append(slot)
    if run and period is not None:
        changes.append(_change(cycle.number, period, _before(changes, cycle), run))
    return changes


def _before(changes: list[MidCycleChange], cycle: CyclePlan) -> float:
    """The dose the patient holds capsules for before the next change of a cycle."""
    return changes[-1].after_mg if changes else cycle.dose_mg


def _change(
    cycle: int, period: HoldPeriod, before_mg: float, slots: list[DoseSlot]
) -> MidCycleChange:
    return MidCycleChange(
        cycle=cycle,
        resumed_on=period.end or slots[0].date,
        hold_start=period.start,
        before_mg=before_mg,
        after_mg=slots[0].dose_mg,
        first_day=slots[0].day,
        last_day=slots[-1].day,
        dose_dates=tuple(sorted({s.date for s in slots if s.status not in _NOT_TAKEN_AT_HOME})),
    )


def mid_cycle_changes(plan: Plan) -> tuple[MidCycleChange, ...]:
    """``dose_levels``: every run of a cycle's doses planned at a level its day 1 did not have,
    from the resumption that set it to the cycle's last dosing day (or the next change)."""
    if len(plan.holds) == 0 or all(h.resume_dose_mg is None for h in plan.holds):
        return ()
    found: list[MidCycleChange] = []
    for cycle in plan.cycles:
        if cycle.tentative or cycle.status == "cancelled":
            continue
        found.extend(c for c in _changes_in(plan, cycle) if c.dose_dates)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether capsules may be prepared on a day: ``allowed``; or not yet, and ``from_day``
    says from when; or not at all for now (``from_day`` None) and ``reason`` says why."""

    allowed: bool
    from_day: date | None
    reason: str


def may_prepare(plan: Plan, cycle: CyclePlan, needed_on: date, on: date) -> Readiness:
    """May capsules for ``cycle``, needed by ``needed_on`` (its day 1, or the first dose at a
    new level), be prepared on ``on``? Not for a cycle that is over or cancelled, nor once the
    treatment is discontinued, nor while an open hold covers ``on`` or ``needed_on`` (an open
    hold is never assumed to end). A hold whose resumption is recorded allows it from that
    resumption: before it, the subject is still on hold."""
    if cycle.status not in ("planned", "in_progress"):
        return Readiness(False, None, f"cycle {cycle.number} is {cycle.status}")
    stop = plan.discontinuation
    if stop is not None and stop.on <= max(on, needed_on):
        return Readiness(False, None, f"treatment was discontinued on {stop.on}")
    for period in plan.holds:
        if not (period.covers(on) or period.covers(needed_on)):
            continue
        if period.end is None:
            return Readiness(False, None, f"dosing is on hold since {period.start}")
        return Readiness(
            False,
            period.end,
            f"dosing is on hold since {period.start}, until the resumption on {period.end}",
        )
    return Readiness(True, None, "")
