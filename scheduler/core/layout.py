"""What a protocol implies for every plan, worked out once per protocol object.

A plan is rebuilt from scratch each time it is needed (worklists build thousands), so what
depends only on the protocol (dosing-day offsets, slot keys, the expanded visit list, the
toxicity rules in matchable form) is computed on first use and kept, keyed on the protocol
object's identity. Protocols are frozen pydantic models, so an object never changes after it is
built; a corrected protocol is a new object and gets its own layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

from scheduler.core.outputs import DoseStatus, Proposal, VisitPlan
from scheduler.protocols.schema import Protocol, ToxicityRule
from scheduler.protocols.schema import Visit as VisitDefinition


@dataclass(slots=True)
class Placement:
    """A visit template at one target date: its window, and the visits made there so far."""

    target: date
    start: date
    end: date
    entries: list[tuple[date, str, VisitPlan] | None]
    """(target, code, visit) by ``2 * status index + tentative``; see ``visits._visit``."""


@dataclass(frozen=True, slots=True)
class VisitTemplate:
    """One visit of the plan before a subject's dates are known."""

    code: str
    name: str
    anchor: str
    cycle: int | None
    offset: timedelta
    before: timedelta
    after: timedelta
    dispense: bool
    procedures: tuple[str, ...]
    bring: str
    months: int = 0
    """Months from surgery to the target (then ``offset`` days more): surgery anchors only."""
    placed: dict[date, Placement] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    """By anchor date (day 1, surgery, last dose), filled by ``visits._visit``: every plan whose
    anchor falls on the same date gets the same target, window and ``VisitPlan`` objects."""


CycleDates = tuple[tuple[tuple[date, date, bool], ...], tuple[date, ...]]
"""(day 1, nominal day 1, tentative) of each cycle, and the last day of each."""

SlotRow = tuple[str, int, int, time, int]
"""(key, day, slot, local time, administration index 0..n-1)."""


@dataclass(frozen=True, slots=True)
class SlotPattern:
    """The slots of every cycle for a given dose time.

    ``rows[cycle - 1]`` lists that cycle's slots in plan order (by day, then slot).
    """

    times: tuple[time, ...]
    rows: tuple[tuple[SlotRow, ...], ...]
    scheduled_us: tuple[int, ...]
    """Each administration's time as microseconds since midnight, for lateness."""


@dataclass(frozen=True, slots=True)
class RuleMatcher:
    rule: ToxicityRule
    terms: frozenset[str] | None
    """Casefolded terms; None matches any term ("*")."""


@dataclass(slots=True, kw_only=True)
class ProtocolLayout:
    protocol: Protocol
    dosing_days: tuple[int, ...]
    day_offsets: tuple[timedelta, ...]
    cycle_length: timedelta
    cycles: int
    administrations: int
    slot_keys: tuple[tuple[str, ...], ...]
    """``slot_keys[cycle - 1]``: the keys of that cycle's slots, in plan order."""
    visit_templates: tuple[VisitTemplate, ...]
    """Every visit of the plan, cycle visits expanded (one per cycle), in protocol order."""
    lab_terms: frozenset[str]
    rules: tuple[RuleMatcher, ...]
    plain_cycles: dict[date, CycleDates] = field(default_factory=dict)
    """Day 1, nominal day 1 and last day of each cycle of a plan without holds, by cycle 1
    day 1; filled by ``plan._cycle_dates``."""
    slot_dates: dict[date, tuple[date, ...]] = field(default_factory=dict)
    """The date of each slot of a cycle, by day 1; filled by ``dosing_days.slot_dates``."""
    patterns: dict[time, SlotPattern] = field(default_factory=dict)
    """Slot patterns by dose time, filled by ``dosing_days.slot_pattern``."""
    lateness: dict[time, dict[time, tuple[DoseStatus, int]]] = field(default_factory=dict)
    """(status, minutes late) by scheduled time and time taken, on days without a DST change;
    filled by ``dosing_days``."""
    proposals: dict[tuple[str, int, bool, bool, float, type], Proposal] = field(
        default_factory=dict
    )
    """Proposed actions by (term, grade, related, intolerable, dose, type of the dose), filled
    by ``toxicity``."""


def _keys(cycle: int, days: tuple[int, ...], administrations: int) -> tuple[str, ...]:
    if administrations == 1:
        return tuple(f"C{cycle}D{day}" for day in days)
    return tuple(
        f"C{cycle}D{day}S{index}" for day in days for index in range(1, administrations + 1)
    )


def _template(
    definition: VisitDefinition, code: str, name: str, cycle: int | None, *, months: int = 0
) -> VisitTemplate:
    return VisitTemplate(
        code=code,
        name=name,
        anchor=definition.anchor,
        cycle=cycle,
        offset=timedelta(days=definition.offset_days),
        before=timedelta(days=definition.window_before),
        after=timedelta(days=definition.window_after),
        dispense=definition.dispense,
        procedures=definition.procedures,
        bring=definition.bring,
        months=months,
    )


def _build(protocol: Protocol) -> ProtocolLayout:
    schedule = protocol.schedule
    templates: list[VisitTemplate] = []
    for definition in protocol.visits:
        if definition.anchor == "cycle":
            templates.extend(
                _template(
                    definition,
                    definition.code.format(cycle=number),
                    definition.name.format(cycle=number),
                    number,
                )
                for number in definition.cycles
            )
        else:
            templates.append(
                _template(
                    definition,
                    definition.code,
                    definition.name,
                    None,
                    months=definition.offset_months if definition.anchor == "surgery" else 0,
                )
            )
    return ProtocolLayout(
        protocol=protocol,
        dosing_days=schedule.dosing_days,
        day_offsets=tuple(timedelta(days=day - 1) for day in schedule.dosing_days),
        cycle_length=timedelta(days=schedule.cycle_length_days),
        cycles=schedule.cycles,
        administrations=schedule.administrations_per_day,
        slot_keys=tuple(
            _keys(cycle, schedule.dosing_days, schedule.administrations_per_day)
            for cycle in range(1, schedule.cycles + 1)
        ),
        visit_templates=tuple(templates),
        lab_terms=frozenset(term.casefold() for term in protocol.lab_terms),
        rules=tuple(
            RuleMatcher(
                rule=rule,
                terms=None if "*" in rule.terms else frozenset(t.casefold() for t in rule.terms),
            )
            for rule in protocol.toxicity_rules
        ),
    )


_layouts: dict[int, ProtocolLayout] = {}
_MAX_LAYOUTS = 64  # protocols in use at once: a few per site and version


def layout_for(protocol: Protocol) -> ProtocolLayout:
    """The layout of ``protocol``, built on first use.

    Keyed on ``id()``; the layout holds the protocol, so the id cannot be reused for another
    object while the entry exists, and the identity check guards the rest.
    """
    layout = _layouts.get(id(protocol))
    if layout is None or layout.protocol is not protocol:
        if len(_layouts) >= _MAX_LAYOUTS:
            _layouts.clear()
        layout = _layouts[id(protocol)] = _build(protocol)
    return layout
