"""What a plan is made of: its dose slots, cycles, visits and proposed actions.

These records sit below every other core module (they import nothing from the core), so the
modules that make them and the protocol layout that keeps shared ones can all refer to them
without importing each other in a loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Literal, TypeAlias

_Time: TypeAlias = time
"""``time`` under another name, for fields declared after DoseSlot's own ``time`` field."""

DoseStatus = Literal[
    "planned", "taken", "late", "taken_outside_window", "missed", "held", "cancelled"
]
TAKEN: tuple[DoseStatus, ...] = ("taken", "late", "taken_outside_window")
"""The statuses of a dose the subject took: what accountability, dose intensity and the EX
export count. A dose taken past the late-dose limit is a protocol deviation, but it was taken."""
CycleStatus = Literal["planned", "in_progress", "completed", "stopped", "cancelled"]
VisitStatus = Literal["planned", "due", "overdue", "done", "cancelled"]
ProposedAction = Literal["continue", "continue_may_hold", "hold", "hold_then_reduce", "discontinue"]


@dataclass(slots=True, kw_only=True)
class DoseSlot:
    """Not frozen: ``dosing_days.SlotBuilder`` fills each slot in place (see there)."""

    key: str
    """Stable identity within the subject: cycle, day and administration ("C2D5", "C2D5S2")."""
    cycle: int
    day: int
    slot: int
    date: date
    time: time
    dose_mg: float
    status: DoseStatus
    tentative: bool
    taken_at: _Time | None = None
    record_id: int | None = None
    late_minutes: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CyclePlan:
    number: int
    day1: date
    end: date
    """Last day of the cycle: the day before the next day 1 (so a delay lengthens the rest)."""
    nominal_day1: date
    delay_days: int
    dose_mg: float
    status: CycleStatus
    tentative: bool
    doses: tuple[DoseSlot, ...] = field(default=())


_FIELDS = CyclePlan.__dict__
_set_number = _FIELDS["number"].__set__
_set_day1 = _FIELDS["day1"].__set__
_set_end = _FIELDS["end"].__set__
_set_nominal_day1 = _FIELDS["nominal_day1"].__set__
_set_delay_days = _FIELDS["delay_days"].__set__
_set_dose_mg = _FIELDS["dose_mg"].__set__
_set_status = _FIELDS["status"].__set__
_set_tentative = _FIELDS["tentative"].__set__
_set_doses = _FIELDS["doses"].__set__
_new_object = object.__new__


def cycle_plan(
    *,
    number: int,
    day1: date,
    end: date,
    nominal_day1: date,
    delay_days: int,
    dose_mg: float,
    status: CycleStatus,
    tentative: bool,
    doses: tuple[DoseSlot, ...],
) -> CyclePlan:
    """``CyclePlan(...)`` at about half the cost, for ``build_plan``'s eight cycles a plan.

    The frozen dataclass's own ``__init__`` stores each field through ``object.__setattr__``,
    which looks the field up by name each time; with the per-call overhead that is over a
    microsecond a cycle, a tenth of the time budget of a whole plan. This stores each field
    through its slot descriptor, found once here: the same slots the frozen ``__init__`` fills,
    so the result is an ordinary ``CyclePlan`` (equality, hashing, repr, pickling, and
    ``FrozenInstanceError`` on assignment). ``tests/core/test_core_internals.py`` checks it
    equals the plain constructor's for any values.
    """
    cycle: CyclePlan = _new_object(CyclePlan)
    _set_number(cycle, number)
    _set_day1(cycle, day1)
    _set_end(cycle, end)
    _set_nominal_day1(cycle, nominal_day1)
    _set_delay_days(cycle, delay_days)
    _set_dose_mg(cycle, dose_mg)
    _set_status(cycle, status)
    _set_tentative(cycle, tentative)
    _set_doses(cycle, doses)
    return cycle


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitPlan:
    code: str
    name: str
    anchor: str
    cycle: int | None
    target: date
    window_start: date
    window_end: date
    status: VisitStatus
    tentative: bool
    dispense: bool
    procedures: tuple[str, ...]
    bring: str
    actual: date | None = None
    record_id: int | None = None
    deviation: str = ""

    def in_window(self, day: date) -> bool:
        return self.window_start <= day <= self.window_end


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal:
    action: ProposedAction
    rule_id: str | None
    reason: str
    resume_dose_mg: float | None = None
