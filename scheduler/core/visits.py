"""The visit plan: targets from each visit's anchor, windows around them, and their status.

Cycle-anchored visits move with their cycle; follow-ups anchored to surgery never move; the
end-of-treatment visit is anchored to the last dose actually taken once treatment has ended,
and projected from the last planned dose before that.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import attrgetter
from typing import Literal

from scheduler.core.construct import frozen_constructor
from scheduler.core.cycles import CyclePlan
from scheduler.core.inputs import Discontinuation, VisitRecord
from scheduler.core.layout import VisitTemplate, layout_for
from scheduler.protocols.schema import Protocol

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


_new_visit = frozen_constructor(VisitPlan)
_PLAN_ORDER = attrgetter("target", "code")


def _visit(
    template: VisitTemplate,
    target: date,
    tentative: bool,
    cancelled: bool,
    record: VisitRecord | None,
    today: date,
) -> VisitPlan:
    start = target - template.before
    end = target + template.after
    if record is not None:
        return _new_visit(
            template.code,
            template.name,
            template.anchor,
            template.cycle,
            target,
            start,
            end,
            "done",
            False,
            template.dispense,
            template.procedures,
            template.bring,
            record.on,
            record.id,
            record.deviation,
        )
    status: VisitStatus
    if cancelled:
        status = "cancelled"
    elif today < start:
        status = "planned"
    elif today <= end:
        status = "due"
    else:
        status = "overdue"
    return _new_visit(
        template.code,
        template.name,
        template.anchor,
        template.cycle,
        target,
        start,
        end,
        status,
        tentative,
        template.dispense,
        template.procedures,
        template.bring,
        None,
        None,
        "",
    )


@lru_cache(maxsize=4096)
def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's last (as
    ``dateutil.relativedelta`` does: 31 August + 6 months is 28 or 29 February)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


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
    layout = layout_for(protocol)
    stop = discontinuation.on if discontinuation is not None else None
    everything_stops = discontinuation is not None and discontinuation.reason == "death"
    visits: list[VisitPlan] = []
    append = visits.append
    for template, index in layout.cycle_visits:
        cycle = cycles[index]
        target = cycle.day1 + template.offset
        cancelled = cycle.status == "cancelled" or (stop is not None and target > stop)
        record = records.get(template.code) if records else None
        append(_visit(template, target, cycle.tentative, cancelled, record, today))
    for template, months in layout.surgery_visits:
        target = add_months(surgery, months) + template.offset
        cancelled = everything_stops and stop is not None and target > stop
        record = records.get(template.code) if records else None
        append(_visit(template, target, False, cancelled, record, today))
    for template in layout.last_dose_visits:
        target = last_dose + template.offset
        cancelled = everything_stops and stop is not None and target > stop
        record = records.get(template.code) if records else None
        append(_visit(template, target, last_dose_projected, cancelled, record, today))
    visits.sort(key=_PLAN_ORDER)
    return tuple(visits)
