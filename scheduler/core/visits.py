"""The visit plan: targets from each visit's anchor, windows around them, and their status.

Cycle-anchored visits move with their cycle; follow-ups anchored to surgery never move; the
end-of-treatment visit is anchored to the last dose actually taken once treatment has ended,
and projected from the last planned dose before that.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from functools import lru_cache
from operator import itemgetter

from scheduler.core.inputs import TreatmentStop, VisitDone
from scheduler.core.layout import Placement, VisitTemplate, layout_for
from scheduler.core.outputs import CyclePlan, VisitStatus
from scheduler.core.outputs import VisitPlan as VisitPlan
from scheduler.errors import InputError
from scheduler.protocols.schema import Protocol

_visit_of = itemgetter(2)
_STATUS_ORDER: tuple[VisitStatus, ...] = ("planned", "due", "overdue", "cancelled")
_MAX_PLACEMENTS = 8192  # anchor dates kept per visit template: over 20 years of days

PlacedVisit = tuple[date, str, VisitPlan]
"""(target, code, visit): sorting these orders visits by date, then code, without reading
either back from the visit. Codes are unique within a protocol (the schema checks), so the
visits themselves are never compared. ``entries[2 * status index + tentative]`` of a
``Placement`` (status index in ``_STATUS_ORDER``)."""


def _placement(template: VisitTemplate, anchor: date) -> Placement:
    """The target and window of ``template`` when its anchor falls on ``anchor``."""
    if template.anchor == "surgery":
        target = add_months(anchor, template.months) + template.offset
    else:
        target = anchor + template.offset
    entries: list[PlacedVisit | None] = [None] * (2 * len(_STATUS_ORDER))
    placement = Placement(target, target - template.before, target + template.after, entries)
    if len(template.placed) >= _MAX_PLACEMENTS:
        template.placed.clear()
    template.placed[anchor] = placement
    return placement


def _done(template: VisitTemplate, placement: Placement, record: VisitDone) -> PlacedVisit:
    visit = VisitPlan(
        code=template.code,
        name=template.name,
        anchor=template.anchor,
        cycle=template.cycle,
        target=placement.target,
        window_start=placement.start,
        window_end=placement.end,
        status="done",
        tentative=False,
        dispense=template.dispense,
        procedures=template.procedures,
        bring=template.bring,
        actual=record.on,
        record_id=record.id,
        deviation=record.deviation,
    )
    return (placement.target, template.code, visit)


def _not_done(template: VisitTemplate, placement: Placement, index: int) -> PlacedVisit:
    """The visit of ``placement.entries[index]``, made and kept there on first use."""
    visit = VisitPlan(
        code=template.code,
        name=template.name,
        anchor=template.anchor,
        cycle=template.cycle,
        target=placement.target,
        window_start=placement.start,
        window_end=placement.end,
        status=_STATUS_ORDER[index // 2],
        tentative=bool(index % 2),
        dispense=template.dispense,
        procedures=template.procedures,
        bring=template.bring,
    )
    entry = placement.entries[index] = (placement.target, template.code, visit)
    return entry


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
    surgery: date | None,
    cycles: tuple[CyclePlan, ...],
    last_dose: date,
    last_dose_projected: bool,
    untreated: bool = False,
    discontinuation: TreatmentStop | None,
    records: dict[str, VisitDone],
    today: date,
) -> tuple[VisitPlan, ...]:
    """Every visit of the plan, by target date (then code).

    A visit not yet done depends only on its template, anchor date (day 1, surgery, last dose),
    status and tentativeness, and ``VisitPlan`` is immutable, so all plans share one object for
    each of those, kept with the template's ``Placement`` for that anchor date (as are the
    target and window). Subjects visit on a few hundred distinct dates, so this spares each
    plan building a dozen objects and some thirty date sums; the loop below is kept in one
    piece (no call per visit) for the same reason.
    """
    layout = layout_for(protocol)
    stop = discontinuation.on if discontinuation is not None else None
    # After a death, or a screen failure (stopped before C1D1), every later visit is cancelled;
    # otherwise only cycle visits are. A subject stopped before their first dose has no end of
    # treatment: the visits counted from the last dose are cancelled.
    stops_all = (
        stop
        if discontinuation is not None
        and (
            discontinuation.reason == "death" or (untreated and discontinuation.on < cycles[0].day1)
        )
        else None
    )
    visits: list[PlacedVisit] = []
    append = visits.append
    for template in layout.visit_templates:
        kind = template.anchor
        if kind == "cycle":
            cycle = cycles[template.cycle - 1]  # type: ignore[operator]
            anchor = cycle.day1
            tentative = cycle.tentative
            cancelled = cycle.status == "cancelled"
            cancelled_after = stop
        elif kind == "surgery":
            if surgery is None:
                raise InputError(
                    "surgery",
                    f"visit {template.code} is counted from the surgery date: it must be given",
                )
            anchor = surgery
            tentative = cancelled = False
            cancelled_after = stops_all
        else:
            anchor = last_dose
            tentative = last_dose_projected
            cancelled = untreated
            cancelled_after = stops_all
        placement = template.placed.get(anchor)
        if placement is None:
            placement = _placement(template, anchor)
        if records:
            record = records.get(template.code)
            if record is not None:
                append(_done(template, placement, record))
                continue
        if cancelled or (cancelled_after is not None and placement.target > cancelled_after):
            index = 6
        elif today < placement.start:
            index = 0
        elif today <= placement.end:
            index = 2
        else:
            index = 4
        if tentative:
            index += 1
        entry = placement.entries[index]
        append(entry if entry is not None else _not_done(template, placement, index))
    visits.sort()
    return tuple(map(_visit_of, visits))
