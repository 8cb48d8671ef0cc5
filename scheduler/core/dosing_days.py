"""Dose slots: one per dosing day and administration, each with the status the record gives it.

A missed dose is never made up and never moves anything; a held or cancelled slot cannot carry a
record. Lateness is measured in real elapsed time in the subject's zone, so a DST night does not
turn a dose 11.5 hours late into one 12.5 hours late.

Slots are most of a plan (112 for the default protocol, 168 for a twice-daily one), so
``SlotBuilder`` does the per-plan work once and keeps the per-slot work to a few operations.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Set
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import repeat
from typing import Literal, TypeAlias

from scheduler.core.dose_levels import DoseTimeline
from scheduler.core.holds import HoldPeriod
from scheduler.core.inputs import Anchors, DoseOutcome
from scheduler.core.layout import ProtocolLayout, SlotPattern, SlotRow
from scheduler.core.times import (
    microseconds_of_day,
    minutes_between,
    offset_change_days,
    wall_minutes_between,
)
from scheduler.errors import InputError
from scheduler.protocols.schema import Protocol

_Time: TypeAlias = time
"""``time`` under another name, for fields declared after DoseSlot's own ``time`` field."""

DoseStatus = Literal["planned", "taken", "late", "missed", "held", "cancelled"]


@dataclass(slots=True, kw_only=True)
class DoseSlot:
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


def slot_times(protocol: Protocol, dose_time: time) -> tuple[time, ...]:
    """Local times of each administration of a dosing day, starting at the subject's dose time."""
    schedule = protocol.schedule
    first = datetime.combine(date.min, dose_time)
    step = timedelta(hours=schedule.administration_interval_hours)
    last = first + step * (schedule.administrations_per_day - 1)
    if last.date() != first.date():
        # A slot is dated by its dosing day, so an administration past midnight would be shown
        # (and judged late or not) on the wrong day.
        raise InputError(
            "dose_time",
            f"{dose_time:%H:%M} puts the last of {schedule.administrations_per_day} "
            f"administrations {schedule.administration_interval_hours} h apart past midnight",
        )
    return tuple((first + step * i).time() for i in range(schedule.administrations_per_day))


def slot_pattern(layout: ProtocolLayout, dose_time: time) -> SlotPattern:
    """The slots of each cycle for ``dose_time`` (cached per protocol and dose time)."""
    pattern = layout.patterns.get(dose_time)
    if pattern is None:
        times = slot_times(layout.protocol, dose_time)
        cells = [
            (day, index + 1, at, index)
            for day in layout.dosing_days
            for index, at in enumerate(times)
        ]
        rows = tuple(
            tuple((key, *cell) for key, cell in zip(keys, cells, strict=True))
            for keys in layout.slot_keys
        )
        scheduled = tuple(microseconds_of_day(at) for at in times)
        pattern = SlotPattern(times=times, rows=rows, scheduled_us=scheduled)
        if dose_time.tzinfo is None and not dose_time.fold:
            # Only plain times are shared: equal aware or fold=1 times can still differ.
            layout.patterns[dose_time] = pattern
    return pattern


def slot_dates(layout: ProtocolLayout, day1: date) -> tuple[date, ...]:
    """The date of each slot of a cycle starting ``day1``, in plan order (cached per day 1).

    Dates are immutable, so plans share them; the cache saves creating (and freeing) one date
    object per slot.
    """
    dates = layout.slot_dates.get(day1)
    if dates is None:
        per_day = layout.administrations
        dates = tuple(day1 + offset for offset in layout.day_offsets for _ in range(per_day))
        if len(layout.slot_dates) >= _MAX_DATES:
            layout.slot_dates.clear()
        layout.slot_dates[day1] = dates
    return dates


_MAX_DATES = 8192  # distinct day 1 dates in use: about 20 years' worth
_MAX_MEMO = 20_000  # distinct times taken per scheduled time; minute resolution needs 1,440
_new_object = object.__new__


def _blank_slots(count: int) -> tuple[DoseSlot, ...]:
    """``count`` new slots with no field set yet, for the caller to fill in place.

    Allocating them all in one C-level loop, straight into the tuple the cycle keeps, spares
    the per-slot allocation call, the list appends and the list-to-tuple copy of building
    them one at a time. Every slot is filled before anyone else sees it.
    """
    return tuple(map(_new_object, repeat(DoseSlot, count)))


class SlotBuilder:
    """Builds each cycle's slots for one plan, and keeps what the records need checking.

    Cycles are built in order. ``consumed`` counts the records that landed on a slot: once all
    have, later cycles cannot have any. When it falls short at the end, some record is on a day
    the plan has no dose for, and the caller reports which.

    Each cycle takes the cheapest of three loops that can build it (a plan is about 120 slots,
    so what a slot costs is most of what a plan costs):

    - nothing recorded and nothing in the way (no hold, discontinuation, level change or wait
      for day-1 criteria within the cycle): every slot planned, built in one tight loop;
    - records but nothing in the way and no DST change within the cycle (most past cycles):
      each slot is planned or judged from its record, with no hold or stop checks;
    - anything else: ``_cycle_in_full``, which applies every rule slot by slot.
    """

    __slots__ = (
        "_dst_days",
        "_judged",
        "_late_minutes",
        "_layout",
        "_lookups",
        "_offset_changes",
        "_on_time_minutes",
        "_pattern",
        "_periods",
        "_single_level",
        "_stop",
        "_stopped_on_hold",
        "_timeline",
        "_waiting_from",
        "_zone",
        "consumed",
        "last_taken",
        "records",
        "stray",
    )

    def __init__(
        self,
        layout: ProtocolLayout,
        anchors: Anchors,
        *,
        doses: tuple[DoseOutcome, ...],
        timeline: DoseTimeline,
        periods: tuple[HoldPeriod, ...],
        stop: date | None,
        stopped_on_hold: bool,
        waiting_from: date | None,
        span: tuple[date, date],
    ) -> None:
        self._pattern = slot_pattern(layout, anchors.dose_time)
        self._layout = layout
        self._timeline = timeline
        # One level for the whole plan (no reduction yet): no cycle needs to look it up.
        self._single_level = timeline.doses[0] if len(timeline.doses) == 1 else None
        self._periods = periods
        self._stop = stop
        self._stopped_on_hold = stopped_on_hold
        # Day 1 of a cycle waiting for its day-1 criteria: no dose from then on is to take.
        self._waiting_from = waiting_from
        self._zone: tzinfo = anchors.time_zone
        self._on_time_minutes = layout.on_time_minutes
        self._late_minutes = layout.late_minutes
        self.consumed = 0
        self.last_taken: date | None = None
        by_administration, self.stray = _latest_by_administration(doses, layout.administrations)
        self._lookups = [day_map.get for day_map in by_administration]
        self.records = sum(map(len, by_administration))
        self._offset_changes: Set[date] | None = None
        self._judged: list[dict[time, tuple[DoseStatus, int]]] = []
        self._dst_days: tuple[date, ...] = ()
        if doses:
            first, last = span
            changes = offset_change_days(self._zone, first.year, last.year)
            self._offset_changes = changes
            if changes is None:
                # Without a zone the memo can vouch for, empty memos send every record to
                # _judge.
                self._judged = [{} for _ in self._pattern.times]
            else:
                self._judged = [layout.lateness.setdefault(at, {}) for at in self._pattern.times]
                if changes:
                    self._dst_days = tuple(day for day in changes if first <= day <= last)

    def cycle(self, number: int, day1: date, tentative: bool) -> tuple[DoseSlot, ...]:
        """The slots of cycle ``number`` starting ``day1``, statuses from holds, stop, records."""
        rows = self._pattern.rows[number - 1]
        dates = self._layout.slot_dates.get(day1)
        if dates is None:
            dates = slot_dates(self._layout, day1)
        first = dates[0]
        last = dates[-1]
        constant_mg = self._single_level
        if constant_mg is None:
            timeline = self._timeline
            starts = timeline.starts
            level = bisect_right(starts, first) - 1
            constant_mg = timeline.doses[level]
            if level + 1 < len(starts) and starts[level + 1] <= last:
                constant_mg = None  # the level changes within this cycle
        holds = None
        if self._periods:
            holds = [
                period
                for period in self._periods
                if period.start <= last and (period.end is None or period.end > first)
            ]
        stop = self._stop if self._stop is not None and self._stop <= last else None
        waiting = self._waiting_from is not None and self._waiting_from <= last
        with_records = self.consumed < self.records
        dst_days: tuple[date, ...] = ()
        if with_records and self._dst_days:
            dst_days = tuple(day for day in self._dst_days if first <= day <= last)
        if constant_mg is None or holds or stop is not None or dst_days or waiting:
            return self._cycle_in_full(
                number, dates, tentative, rows, constant_mg, holds, stop, with_records, dst_days
            )
        if with_records:
            return self._cycle_with_records(number, dates, tentative, rows, constant_mg)
        # Nothing recorded and nothing in the way: every slot is planned at one level.
        slots = _blank_slots(len(rows))
        for (key, day, slot, at, _), on, dose in zip(rows, dates, slots, strict=True):
            # Filled in line: a function call per slot (let alone the class's keyword
            # __init__) costs more than the rest of the slot's work.
            dose.key = key
            dose.cycle = number
            dose.day = day
            dose.slot = slot
            dose.date = on
            dose.time = at
            dose.dose_mg = constant_mg
            dose.status = "planned"
            dose.tentative = tentative
            dose.taken_at = None
            dose.record_id = None
            dose.late_minutes = None
        return slots

    def _cycle_with_records(
        self,
        number: int,
        dates: tuple[date, ...],
        tentative: bool,
        rows: tuple[SlotRow, ...],
        dose_mg: float,
    ) -> tuple[DoseSlot, ...]:
        """A cycle with records in it, but no hold, stop, level or UTC offset change.

        Every slot is then planned unless it has a record, and a record taken at a time judged
        before (for this scheduled time) is judged from the memo in line. The result is the
        one ``_cycle_in_full`` would give; this loop only skips the checks that cannot apply.
        """
        lookups = self._lookups
        judged = self._judged
        judge = self._judge
        consumed = 0
        slots = _blank_slots(len(rows))
        for (key, day, slot, at, index), on, dose in zip(rows, dates, slots, strict=True):
            record = lookups[index](on)
            dose.key = key
            dose.cycle = number
            dose.day = day
            dose.slot = slot
            dose.date = on
            dose.time = at
            dose.dose_mg = dose_mg
            dose.tentative = tentative
            if record is None:
                dose.status = "planned"
                dose.taken_at = None
                dose.record_id = None
                dose.late_minutes = None
            else:
                # A record without a time is never in the memo: _judge says "taken".
                verdict: tuple[DoseStatus, int | None] | None = (
                    judged[index].get(record.taken_at)  # type: ignore[arg-type]
                    if record.taken
                    else _MISSED
                )
                if verdict is None:
                    verdict = judge(on, index, at, record)
                dose.status, dose.late_minutes = verdict
                dose.taken_at = record.taken_at
                dose.record_id = record.id
                consumed += 1
        self.consumed += consumed
        self._note_last_taken(slots)
        return slots

    def _note_last_taken(self, slots: tuple[DoseSlot, ...]) -> None:
        """Keep the last dose taken of a cycle, found from the end (usually a step or two)
        rather than tracked slot by slot."""
        for dose in reversed(slots):
            if dose.status == "taken" or dose.status == "late":
                if self.last_taken is None or dose.date > self.last_taken:
                    self.last_taken = dose.date
                return

    def _cycle_in_full(
        self,
        number: int,
        dates: tuple[date, ...],
        tentative: bool,
        rows: tuple[SlotRow, ...],
        constant_mg: float | None,
        holds: list[HoldPeriod] | None,
        stop: date | None,
        with_records: bool,
        dst_days: tuple[date, ...],
    ) -> tuple[DoseSlot, ...]:
        """A cycle with a hold, a discontinuation, a level change, a DST change or a wait for
        day-1 criteria in it.

        The usual record, taken at a time seen before on a day without a DST change, is judged
        here in line; every other record goes through ``_judge``.
        """
        dose_on = self._timeline.dose_on
        lookups = self._lookups
        judged = self._judged
        stopped_on_hold = self._stopped_on_hold
        # Each hold as [first day held, first day free); an open hold is never free, nor is an
        # open wait for day-1 criteria, whose doses are held as an open hold's are.
        spans = [(p.start, date.max if p.end is None else p.end) for p in holds or ()]
        if self._waiting_from is not None:
            spans.append((self._waiting_from, date.max))
        consumed = 0
        last_taken = None
        slots = _blank_slots(len(rows))
        for (key, day, slot, at, index), on, dose in zip(rows, dates, slots, strict=True):
            dose_mg = constant_mg if constant_mg is not None else dose_on(on)
            record = lookups[index](on) if with_records else None
            status: DoseStatus = "planned"
            taken_at: time | None = None
            record_id: int | None = None
            late: int | None = None
            held = False
            for start, free in spans:
                if start <= on < free:
                    held = True
                    break
            if stop is not None and on >= stop and (record is None or on > stop or stopped_on_hold):
                status = "cancelled"
            elif held:
                status = "held"
            elif record is not None:
                taken_at = record.taken_at
                verdict: tuple[DoseStatus, int | None] | None = None
                if record.taken and not (dst_days and on in dst_days):
                    verdict = judged[index].get(taken_at)  # type: ignore[arg-type]
                if verdict is None:
                    verdict = self._judge(on, index, at, record)
                consumed += 1
                status, late = verdict
                record_id = record.id
                if status != "missed":
                    last_taken = on
            # Filled in line, as in cycle().
            dose.key = key
            dose.cycle = number
            dose.day = day
            dose.slot = slot
            dose.date = on
            dose.time = at
            dose.dose_mg = dose_mg
            dose.status = status
            dose.tentative = tentative
            dose.taken_at = taken_at
            dose.record_id = record_id
            dose.late_minutes = late
        self.consumed += consumed
        if last_taken is not None and (self.last_taken is None or last_taken > self.last_taken):
            self.last_taken = last_taken
        return slots

    def _judge(
        self, on: date, index: int, at: time, record: DoseOutcome
    ) -> tuple[DoseStatus, int | None]:
        """Status and minutes late (None when unknown) that ``record`` gives its slot."""
        taken_at = record.taken_at
        if not record.taken:
            return "missed", None
        if taken_at is None:
            return "taken", None
        return self._lateness(on, index, at, taken_at)

    def _lateness(self, on: date, index: int, at: time, taken_at: time) -> tuple[DoseStatus, int]:
        """Status and minutes late of a dose scheduled ``at`` and taken at ``taken_at``.

        On a day without a DST change the answer depends on the two wall times alone, so it is
        kept per scheduled time and time taken (the same few hundred times recur).
        """
        changes = self._offset_changes
        if changes is None or on in changes or taken_at.tzinfo is not None:
            return self._classify(minutes_between(on, at, taken_at, self._zone))
        judged = self._judged[index]
        verdict = judged.get(taken_at)
        if verdict is None:
            late = wall_minutes_between(self._pattern.scheduled_us[index], taken_at)
            verdict = self._classify(late)
            if len(judged) >= _MAX_MEMO:
                judged.clear()
            judged[taken_at] = verdict
        return verdict

    def _classify(self, late: int) -> tuple[DoseStatus, int]:
        if late <= self._on_time_minutes:
            return "taken", max(late, 0)
        if late <= self._late_minutes:
            return "late", late
        return "missed", late


def _latest_by_administration(
    doses: tuple[DoseOutcome, ...], administrations: int
) -> tuple[list[dict[date, DoseOutcome]], bool]:
    """Records by administration (slot - 1) and date, the latest of a slot winning; and
    whether any record names an administration the protocol does not have.

    (Comprehensions, not ``dict(zip(map(attrgetter(...))))``: on CPython 3.11 the specialised
    attribute reads of a comprehension beat ``attrgetter``'s generic lookup.)
    """
    by_administration: list[dict[date, DoseOutcome]] = [{} for _ in range(administrations)]
    if not doses:
        return by_administration, False
    present = {record.slot for record in doses}
    if present == _FIRST_ONLY:
        by_administration[0] = {record.on: record for record in doses}
        return by_administration, False
    valid = set(range(1, administrations + 1))
    if present <= valid:
        for record in doses:
            by_administration[record.slot - 1][record.on] = record
        return by_administration, False
    for slot in present & valid:
        by_administration[slot - 1] = {r.on: r for r in doses if r.slot == slot}
    return by_administration, True


_FIRST_ONLY = frozenset((1,))
_MISSED: tuple[DoseStatus, None] = ("missed", None)
