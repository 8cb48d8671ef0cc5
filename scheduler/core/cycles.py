"""Cycle day-1 dates. Days held inside a cycle are lost (the cycle clock keeps running); a hold
that covers a day 1 delays that cycle to the day dosing resumes, and unmet day-1 criteria delay
it to the day they are met (``day1_criteria``); every later cycle follows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.core.day1_criteria import CriteriaDelay
from scheduler.core.holds import HoldPeriod, hold_covering
from scheduler.core.outputs import CyclePlan as CyclePlan
from scheduler.core.outputs import CycleStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleFrame:
    number: int
    day1: date
    nominal_day1: date
    tentative: bool

    @property
    def delay_days(self) -> int:
        return (self.day1 - self.nominal_day1).days


def cycle_starts(
    c1d1: date,
    length: timedelta,
    cycles: int,
    periods: tuple[HoldPeriod, ...],
    delays: tuple[CriteriaDelay, ...] = (),
) -> list[tuple[date, date, bool]]:
    """(day 1, nominal day 1, tentative) of each cycle: what ``cycle_frames`` gives, as plain
    tuples, which is all ``build_plan`` needs.

    A cycle starts on the first day from its nominal day 1 that no hold covers and its day-1
    criteria allow (the two can take turns: criteria met inside a later hold wait for it).
    """
    by_cycle = {delay.cycle: delay for delay in delays}
    starts: list[tuple[date, date, bool]] = []
    nominal = c1d1
    tentative = False
    for number in range(1, cycles + 1):
        day1 = nominal
        delay = by_cycle.get(number) if delays else None
        while True:
            hold = hold_covering(periods, day1) if periods else None
            if hold is not None and hold.end is not None:
                day1 = hold.end
                continue
            if hold is not None:
                tentative = True
                day1 = max(day1, hold.projected_end)
            if delay is not None and delay.not_before > day1:
                day1 = delay.not_before
                if hold is None:
                    continue  # a resumed hold may cover the new day 1
            break
        if delay is not None and delay.waiting:
            tentative = True
        starts.append((day1, nominal, tentative))
        nominal = day1 + length
    return starts


def cycle_frames(
    c1d1: date, cycle_length_days: int, cycles: int, periods: tuple[HoldPeriod, ...]
) -> list[CycleFrame]:
    length = timedelta(days=cycle_length_days)
    return [
        CycleFrame(number=number, day1=day1, nominal_day1=nominal, tentative=tentative)
        for number, (day1, nominal, tentative) in enumerate(
            cycle_starts(c1d1, length, cycles, periods), start=1
        )
    ]


def cycle_status(
    day1: date, end: date, stop: date | None, today: date, *, stopped_on_hold: bool = False
) -> CycleStatus:
    """``stopped_on_hold``: the subject was on hold when discontinued, so a cycle whose day 1 is
    the discontinuation day (a delayed cycle, typically) never started."""
    if stop is not None and (stop < day1 or (stopped_on_hold and stop == day1)):
        return "cancelled"
    if stop is not None and stop <= end and stop <= today:
        return "stopped"
    if today < day1:
        return "planned"
    if today <= end:
        return "in_progress"
    return "completed"
