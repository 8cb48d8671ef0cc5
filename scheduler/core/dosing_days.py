"""Dose slots: one per dosing day and administration, each with the status the record gives it.

A missed dose is never made up and never moves anything; a held or cancelled slot cannot carry a
record. Lateness is measured in real elapsed time in the subject's zone, so a DST night does not
turn a dose 11.5 hours late into one 12.5 hours late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, TypeAlias

from scheduler.core.dose_levels import DoseTimeline
from scheduler.core.holds import HoldPeriod, hold_covering
from scheduler.core.inputs import Anchors, Discontinuation, DoseRecord
from scheduler.core.times import minutes_between
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


def _recorded_status(
    protocol: Protocol, anchors: Anchors, slot_day: date, slot_time: time, record: DoseRecord
) -> tuple[DoseStatus, int | None]:
    if not record.taken:
        return "missed", None
    if record.taken_at is None:
        return "taken", None
    late = minutes_between(slot_day, slot_time, record.taken_at, anchors.time_zone)
    limits = protocol.limits
    if late <= limits.on_time_minutes:
        return "taken", max(late, 0)
    if late <= limits.late_dose_hours * 60:
        return "late", late
    return "missed", late


def cycle_slots(
    protocol: Protocol,
    anchors: Anchors,
    *,
    cycle: int,
    day1: date,
    tentative: bool,
    times: tuple[time, ...],
    timeline: DoseTimeline,
    periods: tuple[HoldPeriod, ...],
    discontinuation: Discontinuation | None,
    records: dict[tuple[date, int], DoseRecord],
) -> list[DoseSlot]:
    slots: list[DoseSlot] = []
    many = len(times) > 1
    stop = discontinuation.on if discontinuation is not None else None
    # A subject still on hold when discontinued could not take a dose on the discontinuation day.
    stopped_on_hold = any(period.ended_by_discontinuation for period in periods)
    for day in protocol.schedule.dosing_days:
        on = day1 + timedelta(days=day - 1)
        dose_mg = timeline.dose_on(on)
        held = hold_covering(periods, on) is not None if periods else False
        for index, at in enumerate(times, start=1):
            record = records.get((on, index))
            status: DoseStatus
            late: int | None = None
            if stop is not None and on >= stop and (record is None or on > stop or stopped_on_hold):
                status = "cancelled"
            elif held:
                status = "held"
            elif record is not None:
                status, late = _recorded_status(protocol, anchors, on, at, record)
            else:
                status = "planned"
            keep = record is not None and status not in ("held", "cancelled")
            slots.append(
                DoseSlot(
                    key=f"C{cycle}D{day}S{index}" if many else f"C{cycle}D{day}",
                    cycle=cycle,
                    day=day,
                    slot=index,
                    date=on,
                    time=at,
                    dose_mg=dose_mg,
                    status=status,
                    tentative=tentative,
                    taken_at=record.taken_at if keep and record is not None else None,
                    record_id=record.id if keep and record is not None else None,
                    late_minutes=late,
                )
            )
    return slots
