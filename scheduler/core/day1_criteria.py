"""Cycle delays for day-1 criteria: a cycle cannot start before its day-1 criteria are met.

A cycle's assessments are read in date order; of two on one day, the one recorded later
corrects the other. The last "not met" holds the cycle back until the first "met" after it, so
day 1 is the later of that date and the day 1 the plan would otherwise give: a "not met"
followed by a "met" before the planned day 1 moves nothing. The days waited lengthen the rest of
the previous cycle, whose dosing days are over, as a delay by a hold does: they are not held
doses of it, and they count against the protocol's cycle-delay limit.

Until a "met" follows, the delay is open, and it is treated as an open hold is (see ``holds``):
it is never assumed to end. The cycle and every later one are tentative, laid out from the
earliest day it could start (tomorrow), and their doses are ``held`` as those behind an open
hold are, so no feed or reminder tells a patient to start a cycle whose criteria are unmet. A
discontinuation ends the wait: the cycle never started.

The subject's status while waiting stays ``on_treatment`` (``screening`` before cycle 1), not
``on_hold``: no hold was recorded, so there is nothing to resume (``on_hold`` would send staff to
a resumption the core refuses), and the wait is the lengthened rest of a cycle under way. What
ends it is a "met" assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.core.inputs import Day1Assessment, TreatmentStop
from scheduler.errors import InputError

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class CriteriaDelay:
    cycle: int
    unmet_on: date
    """The last assessment that found the criteria not met."""
    met_on: date | None
    """The first assessment after it that found them met; None while none has."""
    not_before: date
    """The first day the cycle may start: ``met_on`` once met; otherwise, for layout only, the
    earliest day it could (tomorrow), or the day after a discontinuation that ended the wait."""
    waiting: bool
    """Not met yet and not ended by a discontinuation: the cycle and all later are tentative
    and none of their doses is one to take."""


def criteria_delays(
    assessments: tuple[Day1Assessment, ...],
    cycles: int,
    stop: TreatmentStop | None,
    today: date,
) -> tuple[CriteriaDelay, ...]:
    """The delay each cycle's assessments impose, by cycle; cycles never found unmet have none."""
    by_cycle: dict[int, dict[date, bool]] = {}
    for assessment in assessments:
        if not 1 <= assessment.cycle <= cycles:
            raise InputError(
                "cycle", f"{assessment.cycle} is not a cycle of the plan (1..{cycles})"
            )
        by_cycle.setdefault(assessment.cycle, {})[assessment.on] = assessment.met
    delays: list[CriteriaDelay] = []
    for number, found in sorted(by_cycle.items()):
        unmet = [on for on, met in found.items() if not met]
        if not unmet:
            continue
        last = max(unmet)
        met_on = min((on for on in found if on > last), default=None)  # all later ones are met
        if met_on is not None:
            not_before = met_on
        elif stop is not None:
            not_before = max(stop.on, last) + _DAY
        else:
            not_before = max(today, last) + _DAY
        delays.append(
            CriteriaDelay(
                cycle=number,
                unmet_on=last,
                met_on=met_on,
                not_before=not_before,
                waiting=met_on is None and stop is None,
            )
        )
    return tuple(delays)
