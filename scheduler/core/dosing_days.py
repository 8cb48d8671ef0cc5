"""Dose slots: one per dosing day and administration, each with the status the record gives it.

A missed dose is never made up and never moves anything; a held or cancelled slot cannot carry a
record. Lateness is measured in real elapsed time in the subject's zone, so a DST night does not
turn a dose 11.5 hours late into one 12.5 hours late.

Slots are most of a plan (112 for the default protocol, 168 for a twice-daily one), so
``SlotBuilder`` does the per-plan and per-cycle work once and keeps the per-slot work to a few
operations.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Set
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import repeat

from scheduler.core.dose_levels import DoseTimeline
from scheduler.core.holds import HoldPeriod
from scheduler.core.inputs import Anchors, DoseOutcome
from scheduler.core.layout import ProtocolLayout, SlotPattern
from scheduler.core.limits import lateness
from scheduler.core.outputs import TAKEN
from scheduler.core.outputs import DoseSlot as DoseSlot
from scheduler.core.outputs import DoseStatus as DoseStatus
from scheduler.core.times import (
    microseconds_of_day,
    minutes_between,
    offset_change_days,
    wall_minutes_between,
)
from scheduler.errors import InputError
from scheduler.protocols.schema import Protocol


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
    """``count`` new slots with no field set yet, for ``SlotBuilder.cycle`` to fill in place.

    This is the core's one shortcut past a dataclass constructor. Building a slot through
    ``DoseSlot(...)`` (twelve keywords) costs about four times what filling it does, and a plan
    is about 120 slots: most of what a plan costs. Allocating them all in one C-level loop,
    straight into the tuple the cycle keeps, also spares the list appends and the copy. Every
    field of every slot is set before anyone else sees it, and
    ``tests/core/test_core_output_stability.py`` checks that each slot equals the one the
    plain constructor gives.
    """
    return tuple(map(_new_object, repeat(DoseSlot, count)))


@dataclass(frozen=True, slots=True, kw_only=True)
class InTheWay:
    """What keeps a cycle's doses from being taken: holds, a wait for day-1 criteria, a
    discontinuation. Only cycles with one of these in them have one."""

    spans: tuple[tuple[date, date], ...]
    """Each hold (and wait for day-1 criteria) as [first day held, first day free); an open
    hold is never free, nor is an open wait, whose doses are held as an open hold's are."""
    stop: date | None
    """The discontinuation date, when it falls on or before the cycle's last dosing day."""
    stopped_on_hold: bool
    """The subject was on hold when discontinued: not even the stop day allows a dose."""

    @property
    def first_day(self) -> date:
        """Before this day nothing stands in the way."""
        firsts = [start for start, _ in self.spans]
        if self.stop is not None:
            firsts.append(self.stop)
        return min(firsts)

    def status(self, on: date, record: DoseOutcome | None) -> DoseStatus | None:
        """ "cancelled" from the discontinuation on (a dose recorded on the stop day itself
        still counts, unless the subject was on hold), "held" within a span, else None."""
        stop = self.stop
        if (
            stop is not None
            and on >= stop
            and (record is None or on > stop or self.stopped_on_hold)
        ):
            return "cancelled"
        for start, free in self.spans:
            if start <= on < free:
                return "held"
        return None


class SlotBuilder:
    """Builds each cycle's slots for one plan, and keeps what the records need checking.

    Cycles are built in order. ``consumed`` counts the records that landed on a slot: once all
    have, later cycles cannot have any. When it falls short at the end, some record is on a day
    the plan has no dose for, and the caller reports which.
    """

    __slots__ = (
        "_dst_days",
        "_judged",
        "_late_dose_hours",
        "_layout",
        "_lookups",
        "_may_block",
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
        self._may_block = bool(periods) or stop is not None or waiting_from is not None
        self._zone: tzinfo = anchors.time_zone
        self._on_time_minutes = layout.protocol.limits.on_time_minutes
        self._late_dose_hours = layout.protocol.limits.late_dose_hours
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
        """The slots of cycle ``number`` starting ``day1``, statuses from holds, stop, records.

        What is the same for every slot of the cycle (the dose level unless it changes within
        the cycle, whether anything stands in the way, whether any record is left, the DST days
        in it) is settled first, so that a slot with nothing on it costs a few assignments.
        A record taken at a time judged before (for this scheduled time, on a day without a DST
        change) is judged from the memo in line; every other record goes through ``_judge``.
        """
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
        blocked = None
        blocked_from = date.max
        if self._may_block:
            in_the_way = self._in_the_way(first, last)
            if in_the_way is not None:
                blocked = in_the_way.status
                blocked_from = in_the_way.first_day
        with_records = self.consumed < self.records
        dst_days: tuple[date, ...] = ()
        if with_records and self._dst_days:
            dst_days = tuple(day for day in self._dst_days if first <= day <= last)
        slots = _blank_slots(len(rows))
        if not with_records and blocked is None and constant_mg is not None:
            # The fast path: nothing recorded and nothing in the way (every cycle ahead of a
            # plain plan), so every slot is planned at one level.
            for (key, day, slot, at, _), on, dose in zip(rows, dates, slots, strict=True):
                dose.key = key
                dose.cycle = number
                dose.day = day
                dose.slot = slot
                dose.date = on
                dose.time = at
                dose.dose_mg = constant_mg
                dose.status = "planned"
                dose.tentative = tentative
                dose.taken_at = dose.record_id = dose.late_minutes = None
            return slots
        dose_on = self._timeline.dose_on
        lookups = self._lookups
        judged = self._judged
        judge = self._judge
        consumed = 0
        for (key, day, slot, at, index), on, dose in zip(rows, dates, slots, strict=True):
            # Filled in line: a call per slot would cost more than the rest of its work.
            record = lookups[index](on) if with_records else None
            dose.key = key
            dose.cycle = number
            dose.day = day
            dose.slot = slot
            dose.date = on
            dose.time = at
            dose.dose_mg = constant_mg if constant_mg is not None else dose_on(on)
            dose.tentative = tentative
            if blocked is not None and on >= blocked_from:
                status = blocked(on, record)
                if status is not None:
                    dose.status = status
                    dose.taken_at = dose.record_id = dose.late_minutes = None
                    continue
            if record is None:
                dose.status = "planned"
                dose.taken_at = dose.record_id = dose.late_minutes = None
                continue
            verdict: tuple[DoseStatus, int | None]
            if not record.taken:
                verdict = _MISSED
            elif dst_days and on in dst_days:
                verdict = judge(on, index, at, record)
            else:
                # A record without a time is never in the memo: _judge says "taken".
                memo = judged[index].get(record.taken_at)  # type: ignore[arg-type]
                verdict = memo if memo is not None else judge(on, index, at, record)
            dose.status, dose.late_minutes = verdict
            dose.taken_at = record.taken_at
            dose.record_id = record.id
            consumed += 1
        if consumed:
            self.consumed += consumed
            self._note_last_taken(slots)
        return slots

    def _note_last_taken(self, slots: tuple[DoseSlot, ...]) -> None:
        """Keep the last dose taken of a cycle, found from the end (usually a step or two)
        rather than tracked slot by slot."""
        for dose in reversed(slots):
            if dose.status in TAKEN:
                if self.last_taken is None or dose.date > self.last_taken:
                    self.last_taken = dose.date
                return

    def _in_the_way(self, first: date, last: date) -> InTheWay | None:
        """What stands in the way of doses from ``first`` to ``last``, if anything."""
        spans = [
            (period.start, date.max if period.end is None else period.end)
            for period in self._periods
            if period.start <= last and (period.end is None or period.end > first)
        ]
        if self._waiting_from is not None and self._waiting_from <= last:
            spans.append((self._waiting_from, date.max))
        stop = self._stop if self._stop is not None and self._stop <= last else None
        if not spans and stop is None:
            return None
        return InTheWay(spans=tuple(spans), stop=stop, stopped_on_hold=self._stopped_on_hold)

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
        status = lateness(
            late, on_time_minutes=self._on_time_minutes, late_dose_hours=self._late_dose_hours
        )
        return status, max(late, 0) if status == "taken" else late


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
