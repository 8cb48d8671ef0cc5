"""Holds (interruptions): pairing hold starts with resumptions into periods.

A hold runs from its start date up to, not including, the resumption date. An open hold (no
resumption yet) lasts until someone resumes it: the core never guesses that it has ended, so no
dose after its start is ever shown as one to take. For laying out later cycles it is projected to
end tomorrow (or the day after it starts), and those cycles are marked tentative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.core.inputs import HoldEnd, HoldStart, TreatmentStop
from scheduler.errors import RuleViolation

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldPeriod:
    start: date
    reason: str
    hold_id: int
    end: date | None
    """The resumption date (first day dosing is allowed again); None while open."""
    projected_end: date
    """``end`` when known; otherwise the earliest day the hold could end, for layout only."""
    resume_dose_mg: float | None
    resumption_id: int | None

    @property
    def is_open(self) -> bool:
        return self.end is None

    @property
    def ended_by_discontinuation(self) -> bool:
        """Never resumed: the discontinuation closed it, so its last day allowed no dose either."""
        return self.end is not None and self.resumption_id is None

    def covers(self, day: date) -> bool:
        if day < self.start:
            return False
        return self.end is None or day < self.end

    def length_days(self, today: date) -> int:
        """Days held so far (or in total, once resumed)."""
        last = self.end if self.end is not None else max(today + _DAY, self.start)
        return (last - self.start).days


def hold_periods(
    holds: tuple[HoldStart, ...],
    resumptions: tuple[HoldEnd, ...],
    discontinuation: TreatmentStop | None,
    c1d1: date,
    today: date,
) -> tuple[HoldPeriod, ...]:
    """Pair starts and resumptions in date order, refusing histories that cannot have happened."""
    timeline: list[tuple[date, int, HoldStart | HoldEnd]] = [(h.on, 1, h) for h in holds] + [
        (r.on, 0, r) for r in resumptions
    ]
    timeline.sort(key=lambda item: (item[0], item[1]))
    periods: list[HoldPeriod] = []
    open_hold: HoldStart | None = None
    for on, _, event in timeline:
        if isinstance(event, HoldStart):
            if on < c1d1:
                raise RuleViolation(
                    "from", f"{on} is before cycle 1 day 1 ({c1d1}); move C1D1 instead"
                )
            if discontinuation is not None and on > discontinuation.on:
                raise RuleViolation(
                    "from", f"{on} is after discontinuation on {discontinuation.on}"
                )
            if open_hold is not None:
                raise RuleViolation(
                    "from", f"already on hold since {open_hold.on}; resume before a new hold"
                )
            open_hold = event
        else:
            if open_hold is None:
                if any(h.on == on for h in holds):
                    # Resumptions sort before holds of the same day (resume, then hold again).
                    raise RuleViolation("on", f"resumption {on} must be after the hold start {on}")
                raise RuleViolation("on", f"no hold to resume on {on}")
            if on <= open_hold.on:
                raise RuleViolation(
                    "on", f"resumption {on} must be after the hold start {open_hold.on}"
                )
            if discontinuation is not None and on > discontinuation.on:
                raise RuleViolation("on", f"{on} is after discontinuation on {discontinuation.on}")
            periods.append(
                HoldPeriod(
                    start=open_hold.on,
                    reason=open_hold.reason,
                    hold_id=open_hold.id,
                    end=on,
                    projected_end=on,
                    resume_dose_mg=event.dose_mg,
                    resumption_id=event.id,
                )
            )
            open_hold = None
    if open_hold is not None:
        end = discontinuation.on if discontinuation is not None else None
        periods.append(
            HoldPeriod(
                start=open_hold.on,
                reason=open_hold.reason,
                hold_id=open_hold.id,
                end=end,
                projected_end=end or max(today + _DAY, open_hold.on + _DAY),
                resume_dose_mg=None,
                resumption_id=None,
            )
        )
    return tuple(periods)


def hold_covering(periods: tuple[HoldPeriod, ...], day: date) -> HoldPeriod | None:
    for period in periods:
        if period.covers(day):
            return period
    return None
