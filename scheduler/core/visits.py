"""The visit plan: targets from each visit's anchor, windows around them, and their status.

Cycle-anchored visits move with their cycle; follow-ups anchored to surgery never move; the
end-of-treatment visit is anchored to the last dose actually taken once treatment has ended,
and projected from the last planned dose before that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta

from scheduler.core.cycles import CyclePlan
from scheduler.core.inputs import Discontinuation, VisitRecord
from scheduler.protocols.schema import Protocol
from scheduler.protocols.schema import Visit as VisitDefinition

VisitStatus = Literal["planned", "due", "overdue", "done", "cancelled"]


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


def _status(
    start: date, end: date, today: date, cancelled: bool, record: VisitRecord | None
) -> VisitStatus:
    if record is not None:
        return "done"
    if cancelled:
        return "cancelled"
    if today < start:
        return "planned"
    if today <= end:
        return "due"
    return "overdue"


def _visit(
    definition: VisitDefinition,
    *,
    code: str,
    name: str,
    cycle: int | None,
    target: date,
    tentative: bool,
    cancelled: bool,
    record: VisitRecord | None,
    today: date,
) -> VisitPlan:
    start = target - timedelta(days=definition.window_before)
    end = target + timedelta(days=definition.window_after)
    return VisitPlan(
        code=code,
        name=name,
        anchor=definition.anchor,
        cycle=cycle,
        target=target,
        window_start=start,
        window_end=end,
        status=_status(start, end, today, cancelled, record),
        tentative=tentative and record is None,
        dispense=definition.dispense,
        procedures=definition.procedures,
        bring=definition.bring,
        actual=record.on if record is not None else None,
        record_id=record.id if record is not None else None,
        deviation=record.deviation if record is not None else "",
    )


def build_visits(
    protocol: Protocol,
    *,
    surgery: date,
    cycles: tuple[CyclePlan, ...],
    last_dose: date,
    last_dose_projected: bool,
    discontinuation: Discontinuation | None,
    records: dict[str, VisitRecord],
    today: date,
) -> tuple[VisitPlan, ...]:
    stop = discontinuation.on if discontinuation is not None else None
    everything_stops = discontinuation is not None and discontinuation.reason == "death"
    visits: list[VisitPlan] = []
    for definition in protocol.visits:
        if definition.anchor == "cycle":
            for number in definition.cycles:
                cycle = cycles[number - 1]
                target = cycle.day1 + timedelta(days=definition.offset_days)
                code = definition.code.format(cycle=number)
                visits.append(
                    _visit(
                        definition,
                        code=code,
                        name=definition.name.format(cycle=number),
                        cycle=number,
                        target=target,
                        tentative=cycle.tentative,
                        cancelled=cycle.status == "cancelled"
                        or (stop is not None and target > stop),
                        record=records.get(code),
                        today=today,
                    )
                )
            continue
        if definition.anchor == "surgery":
            target = surgery + relativedelta(months=definition.offset_months)
            target += timedelta(days=definition.offset_days)
            tentative = False
        else:
            target = last_dose + timedelta(days=definition.offset_days)
            tentative = last_dose_projected
        visits.append(
            _visit(
                definition,
                code=definition.code,
                name=definition.name,
                cycle=None,
                target=target,
                tentative=tentative,
                cancelled=everything_stops and stop is not None and target > stop,
                record=records.get(definition.code),
                today=today,
            )
        )
    visits.sort(key=lambda v: (v.target, v.code))
    return tuple(visits)
