"""Dose levels over time: only a resumption changes the level, and never upwards."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from scheduler.core.holds import HoldPeriod
from scheduler.core.limits import no_re_escalation
from scheduler.errors import InputError, RuleViolation
from scheduler.protocols.schema import Protocol


def format_mg(dose_mg: float) -> str:
    return f"{dose_mg:g} mg"


@dataclass(frozen=True, slots=True)
class DoseTimeline:
    """Level changes as (first day, mg), sorted; the starting dose applies before any change."""

    starts: tuple[date, ...]
    doses: tuple[float, ...]

    def dose_on(self, day: date) -> float:
        return self.doses[bisect_right(self.starts, day) - 1]


@lru_cache(maxsize=256)
def _constant(dose_mg: float) -> DoseTimeline:
    return DoseTimeline((date.min,), (dose_mg,))


def dose_timeline(protocol: Protocol, c1d1: date, periods: tuple[HoldPeriod, ...]) -> DoseTimeline:
    if not periods:  # the common case: one shared, immutable timeline per starting dose
        return _constant(protocol.starting_dose_mg)
    starts = [date.min]
    doses = [protocol.starting_dose_mg]
    for period in periods:
        if period.end is None or period.resume_dose_mg is None:
            continue
        wanted = period.resume_dose_mg
        if protocol.level_for(wanted) is None:
            allowed = ", ".join(format_mg(level.dose_mg) for level in protocol.dose_levels)
            raise InputError(
                "dose_mg",
                f"{format_mg(wanted)} is not a dose level of {protocol.id} (levels: {allowed})",
            )
        if not no_re_escalation(doses[-1], wanted):
            raise RuleViolation(
                "dose_mg",
                f"{format_mg(wanted)} would re-escalate from {format_mg(doses[-1])}; "
                "re-escalation after a reduction is not allowed",
            )
        starts.append(period.end)
        doses.append(wanted)
    return DoseTimeline(tuple(starts), tuple(doses))


def next_lower_dose(protocol: Protocol, dose_mg: float) -> float | None:
    """The next lower dose level, or None when ``dose_mg`` is already the lowest."""
    lower = [level.dose_mg for level in protocol.dose_levels if level.dose_mg < dose_mg - 1e-9]
    return max(lower) if lower else None
