"""``build_plan``: the one function every view of a subject (worklist, pharmacy, calendar feed,
reminders) is computed from.

The plan is derived, never stored: what is stored is what happened (doses, holds, resumptions,
adverse events, visits, a discontinuation), so the plan cannot drift from the record, and a
protocol correction or a back-dated record shows up everywhere at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any, Literal

from scheduler.core.cycles import cycle_starts, cycle_status
from scheduler.core.day1_criteria import CriteriaDelay, criteria_delays
from scheduler.core.dose_levels import DoseTimeline, dose_timeline, format_mg
from scheduler.core.dosing_days import SlotBuilder
from scheduler.core.holds import HoldPeriod, hold_covering, hold_periods
from scheduler.core.inputs import (
    Anchors,
    DoseOutcome,
    History,
    ToxicityReport,
    TreatmentStop,
)
from scheduler.core.layout import CycleDates, ProtocolLayout, layout_for
from scheduler.core.limits import delay_limit_passed, hold_limit_passed
from scheduler.core.outputs import TAKEN as TAKEN
from scheduler.core.outputs import CyclePlan, DoseSlot, Proposal, VisitPlan, cycle_plan
from scheduler.core.toxicity import propose_action
from scheduler.core.visits import build_visits
from scheduler.errors import InputError, RuleViolation
from scheduler.protocols.schema import Protocol

TreatmentStatus = Literal[
    "screening",
    "on_treatment",
    "on_hold",
    "completed",
    "discontinued",
    "withdrawn_before_treatment",
    "screen_failure",
]
STOPPED: tuple[TreatmentStatus, ...] = (
    "discontinued",
    "withdrawn_before_treatment",
    "screen_failure",
)
"""Statuses of a subject whose treatment was stopped by a discontinuation: stopped during
treatment, or before the first dose was taken (before C1D1: a screen failure)."""
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class AssessedEvent:
    event: ToxicityReport
    dose_mg: float
    proposal: Proposal


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    protocol: Protocol
    anchors: Anchors
    today: date
    status: TreatmentStatus
    dose_mg: float
    cycles: tuple[CyclePlan, ...]
    visits: tuple[VisitPlan, ...]
    holds: tuple[HoldPeriod, ...]
    criteria_delays: tuple[CriteriaDelay, ...]
    adverse_events: tuple[AssessedEvent, ...]
    proposals: tuple[Proposal, ...]
    discontinuation: TreatmentStop | None
    last_dose_taken: date | None

    @property
    def subject(self) -> str:
        return self.anchors.subject

    def doses(self) -> Iterator[DoseSlot]:
        for cycle in self.cycles:
            yield from cycle.doses

    def visit(self, code: str) -> VisitPlan | None:
        for visit in self.visits:
            if visit.code == code:
                return visit
        return None

    def current_hold(self) -> HoldPeriod | None:
        return hold_covering(self.holds, self.today)

    def criteria_delay(self, cycle: int) -> CriteriaDelay | None:
        for delay in self.criteria_delays:
            if delay.cycle == cycle:
                return delay
        return None

    def waiting_for_criteria(self) -> CriteriaDelay | None:
        """The open day-1 criteria delay, if any: the first cycle it holds back never started."""
        for delay in self.criteria_delays:
            if delay.waiting:
                return delay
        return None


def _latest_records(doses: tuple[DoseOutcome, ...]) -> dict[tuple[date, int], DoseOutcome]:
    latest: dict[tuple[date, int], DoseOutcome] = {}
    for record in doses:
        latest[(record.on, record.slot)] = record
    return latest


def describe_day(protocol: Protocol, cycles: tuple[CyclePlan, ...], day: date) -> str:
    """Where a date falls in the plan, for error messages a nurse can act on."""
    if day < cycles[0].day1:
        return f"{day} is before cycle 1 day 1 ({cycles[0].day1})"
    for cycle in cycles:
        if cycle.day1 <= day <= cycle.end:
            number = (day - cycle.day1).days + 1
            if number > protocol.schedule.cycle_length_days:
                return f"{day} is in the delay before cycle {cycle.number + 1}, not a dosing day"
            return f"{day} is C{cycle.number} D{number}, a rest day"
    return f"{day} is after the last cycle ended ({cycles[-1].end})"


def _check_records(
    protocol: Protocol,
    records: dict[tuple[date, int], DoseOutcome],
    cycles: tuple[CyclePlan, ...],
    periods: tuple[HoldPeriod, ...],
    stop: TreatmentStop | None,
    waiting: CriteriaDelay | None,
) -> None:
    used = {(s.date, s.slot) for c in cycles for s in c.doses if s.record_id is not None}
    for key in sorted(set(records) - used):
        on, slot = key
        if not 1 <= slot <= protocol.schedule.administrations_per_day:
            raise InputError(
                "slot",
                f"{slot} is not an administration of the day "
                f"(1..{protocol.schedule.administrations_per_day})",
            )
        hold = hold_covering(periods, on)
        if stop is not None and on > stop.on:
            raise RuleViolation("date", f"{on} is after discontinuation on {stop.on}")
        if stop is not None and on == stop.on:
            for period in periods:
                if period.ended_by_discontinuation:
                    raise RuleViolation(
                        "date",
                        f"{on} falls in the hold from {period.start}, "
                        f"not resumed before discontinuation on {stop.on}",
                    )
        if hold is not None:
            until = f", resumed {hold.end}" if hold.end else ", not yet resumed"
            raise RuleViolation("date", f"{on} falls in the hold from {hold.start}{until}")
        if waiting is not None and on >= cycles[waiting.cycle - 1].nominal_day1:
            raise RuleViolation(
                "date",
                f"cycle {waiting.cycle} waits for its day-1 criteria (not met on "
                f"{waiting.unmet_on}): no dose is planned on {on}",
            )
        raise InputError("date", f"{describe_day(protocol, cycles, on)}: no dose is planned")


_MAX_PLAIN = 8192  # distinct cycle 1 day 1 dates kept: over 20 years of enrolment days


def _cycle_dates(
    layout: ProtocolLayout,
    c1d1: date,
    periods: tuple[HoldPeriod, ...],
    delays: tuple[CriteriaDelay, ...],
) -> CycleDates:
    """(day 1, nominal day 1, tentative) and last day of each cycle.

    Without holds or criteria delays these depend on cycle 1 day 1 alone; they are immutable,
    so plans starting on the same day share them (as they share slot dates), which spares the
    date sums and gives later lookups keyed on those dates objects whose hash is already known.
    """
    plain_only = not periods and not delays
    if plain_only:
        plain = layout.plain_cycles.get(c1d1)
        if plain is not None:
            return plain
    starts = tuple(cycle_starts(c1d1, layout.cycle_length, layout.cycles, periods, delays))
    # Each cycle ends the day before the next one starts; the last runs its full length.
    ends = (
        *(following[0] - _DAY for following in starts[1:]),
        starts[-1][0] + (layout.cycle_length - _DAY),
    )
    if plain_only:
        if len(layout.plain_cycles) >= _MAX_PLAIN:
            layout.plain_cycles.clear()
        layout.plain_cycles[c1d1] = (starts, ends)
    return starts, ends


def _build_cycles(
    layout: ProtocolLayout,
    anchors: Anchors,
    history: History,
    periods: tuple[HoldPeriod, ...],
    delays: tuple[CriteriaDelay, ...],
    timeline: DoseTimeline,
    today: date,
) -> tuple[tuple[CyclePlan, ...], date | None]:
    """The cycles with their slots, and the date of the last dose taken (or None)."""
    protocol = layout.protocol
    stop = history.discontinuation
    stop_day = stop.on if stop is not None else None
    stopped_on_hold = stop is not None and any(p.ended_by_discontinuation for p in periods)
    starts, ends = _cycle_dates(layout, anchors.c1d1, periods, delays)
    waiting = next((delay for delay in delays if delay.waiting), None) if delays else None
    builder = SlotBuilder(
        layout,
        anchors,
        doses=history.doses,
        timeline=timeline,
        periods=periods,
        stop=stop_day,
        stopped_on_hold=stopped_on_hold,
        waiting_from=starts[waiting.cycle - 1][0] if waiting is not None else None,
        span=(starts[0][0], starts[-1][0] + layout.day_offsets[-1]),
    )
    single_level = timeline.doses[0] if len(timeline.doses) == 1 else None
    cycles: list[CyclePlan] = []
    for number, ((day1, nominal, tentative), end) in enumerate(
        zip(starts, ends, strict=True), start=1
    ):
        cycles.append(
            cycle_plan(
                number=number,
                day1=day1,
                end=end,
                nominal_day1=nominal,
                delay_days=0 if day1 is nominal else (day1 - nominal).days,
                dose_mg=single_level if single_level is not None else timeline.dose_on(day1),
                status=cycle_status(day1, end, stop_day, today, stopped_on_hold=stopped_on_hold),
                tentative=tentative,
                doses=builder.cycle(number, day1, tentative),
            )
        )
    plan_cycles = tuple(cycles)
    if builder.stray or builder.consumed != builder.records:
        # Some record is on a day without a dose to take: say which, and why.
        _check_records(
            protocol, _latest_records(history.doses), plan_cycles, periods, stop, waiting
        )
    return plan_cycles, builder.last_taken


def _treatment_status(
    cycles: tuple[CyclePlan, ...],
    periods: tuple[HoldPeriod, ...],
    stop: TreatmentStop | None,
    last_taken: date | None,
    today: date,
) -> TreatmentStatus:
    if stop is not None and stop.on <= today:
        if not _never_treated(cycles, stop, last_taken):
            return "discontinued"
        return "screen_failure" if stop.on < cycles[0].day1 else "withdrawn_before_treatment"
    if hold_covering(periods, today) is not None:
        return "on_hold"
    if today < cycles[0].day1:
        return "screening"
    if today > cycles[-1].doses[-1].date:
        return "completed"
    return "on_treatment"


def _never_treated(
    cycles: tuple[CyclePlan, ...], stop: TreatmentStop, last_taken: date | None
) -> bool:
    """Whether the record shows no dose taken before the discontinuation: none recorded taken,
    and every dose before it recorded missed (or held). Doses merely not yet recorded may have
    been taken (diaries are entered at visits), so they do not make a subject untreated."""
    if last_taken is not None:
        return False
    return all(
        slot.record_id is not None or slot.status == "held"
        for cycle in cycles
        if cycle.day1 < stop.on
        for slot in cycle.doses
        if slot.date < stop.on
    )


def _limit_proposals(
    protocol: Protocol,
    cycles: tuple[CyclePlan, ...],
    periods: tuple[HoldPeriod, ...],
    delays: tuple[CriteriaDelay, ...],
    status: TreatmentStatus,
    today: date,
) -> list[Proposal]:
    if status in STOPPED or status == "completed":
        return []
    limits = protocol.limits
    proposals: list[Proposal] = []
    hold = hold_covering(periods, today)
    if hold is not None and hold_limit_passed(
        hold.length_days(today), max_hold_days=limits.max_hold_days
    ):
        proposals.append(
            Proposal(
                action="discontinue",
                rule_id="hold-limit",
                reason=(
                    f"hold since {hold.start} has lasted {hold.length_days(today)} days, "
                    f"beyond the {limits.max_hold_days}-day limit"
                ),
            )
        )
    for cycle in cycles:
        if cycle.status in ("planned", "in_progress") and delay_limit_passed(
            cycle.delay_days, max_delay_days=limits.max_delay_days
        ):
            reason = (
                f"cycle {cycle.number} is delayed {cycle.delay_days} days, "
                f"beyond the {limits.max_delay_days}-day limit"
            )
            for delay in delays:
                if delay.cycle == cycle.number and delay.waiting:
                    reason += f": day-1 criteria not met since {delay.unmet_on}"
            proposals.append(Proposal(action="discontinue", rule_id="delay-limit", reason=reason))
            break
    return proposals


def build_plan(protocol: Protocol, anchors: Anchors, history: History, today: date) -> Plan:
    """The complete plan for one subject as of ``today``.

    Raises ``InputError`` (or a subclass) when the history cannot have happened under the
    protocol: a dose recorded on a rest day, during a hold or in a cycle still waiting for its
    day-1 criteria, a re-escalation, a resumption without a hold. Services call this before
    storing anything, so a rejected command changes nothing.
    """
    layout = layout_for(protocol)
    stop = history.discontinuation
    periods: tuple[HoldPeriod, ...] = ()
    if history.holds or history.resumptions:
        periods = hold_periods(history.holds, history.resumptions, stop, anchors.c1d1, today)
    delays: tuple[CriteriaDelay, ...] = ()
    if history.day1_assessments:
        delays = criteria_delays(history.day1_assessments, layout.cycles, stop, today)
    timeline = dose_timeline(protocol, anchors.c1d1, periods)
    cycles, last_taken = _build_cycles(layout, anchors, history, periods, delays, timeline, today)

    status = _treatment_status(cycles, periods, stop, last_taken, today)
    last_planned = cycles[-1].doses[-1].date
    if status in STOPPED or status == "completed":
        fallback = stop.on if stop is not None else last_planned
        last_dose, projected = (last_taken or fallback), False
    else:
        last_dose, projected = last_planned, True

    visits = build_visits(
        protocol,
        surgery=anchors.surgery,
        cycles=cycles,
        last_dose=last_dose,
        last_dose_projected=projected,
        untreated=status == "withdrawn_before_treatment" or status == "screen_failure",
        discontinuation=stop,
        records={record.code: record for record in history.visits} if history.visits else {},
        today=today,
    )
    assessed: list[AssessedEvent] = []
    for event in history.adverse_events:
        dose_mg = timeline.dose_on(event.onset)
        assessed.append(
            AssessedEvent(
                event=event, dose_mg=dose_mg, proposal=propose_action(protocol, event, dose_mg)
            )
        )
    return Plan(
        protocol=protocol,
        anchors=anchors,
        today=today,
        status=status,
        dose_mg=timeline.dose_on(today),
        cycles=cycles,
        visits=visits,
        holds=periods,
        criteria_delays=delays,
        adverse_events=tuple(assessed),
        proposals=tuple(_limit_proposals(protocol, cycles, periods, delays, status, today)),
        discontinuation=stop,
        last_dose_taken=last_taken,
    )


def mg_number(value: float | None) -> int | float | None:
    """Doses as JSON numbers: 12, not 12.0."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _iso(value: date | time | None) -> str | None:
    return value.isoformat() if value is not None else None


def _proposal_dict(proposal: Proposal) -> dict[str, Any]:
    return {
        "action": proposal.action,
        "rule": proposal.rule_id,
        "reason": proposal.reason,
        "resume_dose_mg": mg_number(proposal.resume_dose_mg),
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as plain JSON-ready data; key order is fixed, so the JSON is byte-stable."""
    anchors = plan.anchors
    zone = getattr(anchors.time_zone, "key", None) or str(anchors.time_zone)
    return {
        "subject": plan.subject,
        "protocol": plan.protocol.id,
        "protocol_version": plan.protocol.version,
        "drug": plan.protocol.drug.name,
        "today": plan.today.isoformat(),
        "status": plan.status,
        "dose_mg": mg_number(plan.dose_mg),
        "anchors": {
            "c1d1": anchors.c1d1.isoformat(),
            "surgery": _iso(anchors.surgery),
            "time_zone": zone,
            "dose_time": anchors.dose_time.strftime("%H:%M"),
        },
        "last_dose_taken": _iso(plan.last_dose_taken),
        "discontinuation": (
            None
            if plan.discontinuation is None
            else {"on": plan.discontinuation.on.isoformat(), "reason": plan.discontinuation.reason}
        ),
        "proposals": [_proposal_dict(p) for p in plan.proposals],
        "holds": [
            {
                "start": h.start.isoformat(),
                "end": _iso(h.end),
                "reason": h.reason,
                "days": h.length_days(plan.today),
                "resume_dose_mg": mg_number(h.resume_dose_mg),
                "exceeds_limit": hold_limit_passed(
                    h.length_days(plan.today), max_hold_days=plan.protocol.limits.max_hold_days
                ),
            }
            for h in plan.holds
        ],
        "adverse_events": [
            {
                "id": a.event.id,
                "term": a.event.term,
                "grade": a.event.grade,
                "onset": a.event.onset.isoformat(),
                "related": a.event.related,
                "dose_mg": mg_number(a.dose_mg),
                "proposal": _proposal_dict(a.proposal),
            }
            for a in plan.adverse_events
        ],
        "cycles": [
            {
                "number": c.number,
                "day1": c.day1.isoformat(),
                "end": c.end.isoformat(),
                "nominal_day1": c.nominal_day1.isoformat(),
                "delay_days": c.delay_days,
                "dose_mg": mg_number(c.dose_mg),
                "status": c.status,
                "tentative": c.tentative,
                "doses": [
                    {
                        "key": s.key,
                        "date": s.date.isoformat(),
                        "day": s.day,
                        "slot": s.slot,
                        "time": s.time.strftime("%H:%M"),
                        "dose_mg": mg_number(s.dose_mg),
                        "status": s.status,
                        "tentative": s.tentative,
                        "taken_at": s.taken_at.strftime("%H:%M") if s.taken_at else None,
                        "late_minutes": s.late_minutes,
                    }
                    for s in c.doses
                ],
            }
            for c in plan.cycles
        ],
        "visits": [
            {
                "code": v.code,
                "name": v.name,
                "anchor": v.anchor,
                "cycle": v.cycle,
                "target": v.target.isoformat(),
                "window_start": v.window_start.isoformat(),
                "window_end": v.window_end.isoformat(),
                "status": v.status,
                "tentative": v.tentative,
                "actual": _iso(v.actual),
                "deviation": v.deviation,
                "dispense": v.dispense,
            }
            for v in plan.visits
        ],
    }


def plan_to_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"


def format_dose(dose_mg: float) -> str:
    return format_mg(dose_mg)
