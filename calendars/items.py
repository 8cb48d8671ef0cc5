"""Feed items: what one event shows, built from a plan with template text only.

An item is plain data (no icalendar objects), so it can be fingerprinted to decide whether a
client-visible change happened, and rendered later with its stored identity.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Literal

from calendars.options import FeedOptions
from calendars.text import clean
from scheduler.core import Plan
from scheduler.core.dosing_days import DoseSlot
from scheduler.core.plan import format_dose
from scheduler.core.times import local_instant
from scheduler.core.visits import VisitPlan

ItemKey = tuple[str, str]
"""(subject code, key within the subject), e.g. ("S-014", "dose:C2D5"), ("S-014", "visit:C2D1")."""

Status = Literal["CONFIRMED", "TENTATIVE", "CANCELLED"]
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Preparation:
    """One cycle's preparation for the pharmacy feed (the service supplies the dates)."""

    subject: str
    cycle: int
    day1: date
    prepare_by: date
    dose_mg: float
    capsules: str
    """Template text such as "14 x 12 mg"."""
    cancelled: bool
    """On hold or stopped: nothing is to be prepared."""
    status: str
    """The preparation list's status word ("to prepare", "prepared", ...)."""


@dataclass(frozen=True, kw_only=True)
class FeedItem:
    """One VEVENT before its identity is known.

    ``start`` is a date (all-day, ``end`` the exclusive end date) or an aware datetime whose
    tzinfo is a ``zoneinfo.ZoneInfo`` or, for a wall time that occurs twice, ``UTC`` (then
    ``duration`` is set and ``end`` is None).
    """

    subject: str
    key: str
    summary: str
    description: str
    location: str
    start: date | datetime
    end: date | None
    duration: timedelta | None
    status: Status
    alarm: timedelta | None
    """Trigger relative to the start, or None for no alarm."""
    alarm_text: str = ""

    @property
    def ident(self) -> ItemKey:
        return (self.subject, self.key)

    @property
    def cancelled(self) -> bool:
        return self.status == "CANCELLED"

    @property
    def zone(self) -> str | None:
        if isinstance(self.start, datetime) and self.start.tzinfo is not UTC:
            return str(getattr(self.start.tzinfo, "key", self.start.tzinfo))
        return None

    @cached_property
    def fingerprint(self) -> str:
        """A digest of everything a client sees of this event except its identity."""
        start = (
            [self.start.isoformat(), self.zone]
            if isinstance(self.start, datetime)
            else [self.start.isoformat()]
        )
        seen = [
            self.summary,
            self.description,
            self.location,
            start,
            self.end.isoformat() if self.end else None,
            self.duration.total_seconds() if self.duration else None,
            self.status,
            self.alarm.total_seconds() if self.alarm is not None else None,
            self.alarm_text,
        ]
        return hashlib.sha256(json.dumps(seen, ensure_ascii=False).encode()).hexdigest()


def _day_label(slot: DoseSlot, per_day: int) -> str:
    label = f"C{slot.cycle} D{slot.day}"
    return f"{label} dose {slot.slot}" if per_day > 1 else label


def _product(plan: Plan, options: FeedOptions) -> str:
    form = clean(plan.protocol.drug.form, 40) or "dose"
    if options.show_drug_name:
        return f"{clean(plan.protocol.drug.name, 60).capitalize()} {form}"
    return f"Study {form}"


def _contact(options: FeedOptions) -> str:
    phone = clean(options.clinic_phone, 40)
    return f"Questions: call the study team at {phone}." if phone else ""


def _lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


_DOSE_WORDS = {
    "taken": " (taken)",
    "late": " (taken late)",
    "missed": " (missed)",
}


def dose_item(plan: Plan, slot: DoseSlot, options: FeedOptions) -> FeedItem:
    """A dose slot at its local time (DST policy of ``local_instant``: a time in a spring-forward
    gap is shifted forward by the gap, a time in an autumn fold is its first occurrence).

    A gap time is written as the resolved wall time (02:30 -> 03:30). A fold time is written in
    UTC: RFC 5545 says an ambiguous local time is its first occurrence, but ical.js and khal
    read the second, an hour late; a UTC time is read alike everywhere.
    """
    zone = plan.anchors.time_zone
    instant = local_instant(slot.date, slot.time, zone)
    start = instant.astimezone(zone)
    if start.replace(fold=1).utcoffset() != start.utcoffset():
        start = instant
    label = _day_label(slot, plan.protocol.schedule.administrations_per_day)
    dose = f"{_product(plan, options)} {format_dose(slot.dose_mg)}"
    status: Status = "CONFIRMED"
    alarm: timedelta | None = None
    if slot.status == "held":
        status = "CANCELLED"
        summary = f"HOLD - do not take - {label}"
        description = _lines(
            "Dosing is on hold. Do not take a dose on this day.",
            "The study team will tell you when to start again.",
            _contact(options),
        )
    elif slot.status == "cancelled":
        status = "CANCELLED"
        summary = f"CANCELLED - do not take - {label}"
        description = _lines("This dose is cancelled. Do not take it.", _contact(options))
    else:
        summary = f"{dose} - {label}{_DOSE_WORDS.get(slot.status, '')}"
        if slot.tentative:
            status = "TENTATIVE"
            summary += " (date to be confirmed)"
        description = _lines(
            f"Take one dose of {dose} by mouth at this time.",
            "A missed dose is not made up: do not take two doses on one day.",
            _contact(options),
        )
        if slot.status == "planned" and not slot.tentative and options.alarms:
            alarm = timedelta(0)
    return FeedItem(
        subject=plan.subject,
        key=f"dose:{slot.key}",
        summary=summary,
        description=description,
        location="",
        start=start,
        end=None,
        duration=timedelta(minutes=options.dose_minutes),
        status=status,
        alarm=alarm,
        alarm_text=f"Time to take {dose}" if alarm is not None else "",
    )


def visit_item(
    plan: Plan, visit: VisitPlan, options: FeedOptions, *, staff: bool = False
) -> FeedItem:
    """A visit as an all-day event on its target date (the date it was done, once done): no
    time of day is planned for visits, and an all-day event never shifts across zones."""
    on = visit.actual or visit.target
    name = clean(visit.name, 80)
    status: Status = "TENTATIVE" if visit.tentative else "CONFIRMED"
    prefix = f"{plan.subject} " if staff else ""
    summary = f"{prefix}Study visit: {name}"
    if visit.status == "cancelled":
        status = "CANCELLED"
        summary = f"CANCELLED - {summary}"
    elif visit.status == "done":
        summary += " (done)"
    elif visit.tentative:
        summary += " (date to be confirmed)"
    window = (
        f"Window: {visit.window_start.isoformat()} to {visit.window_end.isoformat()}."
        if visit.window_end > visit.window_start
        else f"Date: {visit.target.isoformat()}."
    )
    bring = clean(visit.bring, 200)
    description = _lines(
        window,
        f"Please bring: {bring}." if bring and not staff else "",
        f"Visit code: {visit.code}." if staff else "",
        "" if staff else _contact(options),
    )
    alarm = None
    # Not tied to due/overdue, which move with the date: an alarm in the past never rings.
    if options.alarms and visit.status not in ("done", "cancelled") and not staff:
        alarm = options.visit_alarm_before
    return FeedItem(
        subject=plan.subject,
        key=f"visit:{visit.code}",
        summary=summary,
        description=description,
        location=clean(options.site_address),
        start=on,
        end=on + _DAY,
        duration=None,
        status=status,
        alarm=alarm,
        alarm_text=f"Tomorrow: study visit ({name})" if alarm is not None else "",
    )


def patient_items(plan: Plan, options: FeedOptions) -> list[FeedItem]:
    """Every dose slot and visit of one subject's plan (before the 30-day rule)."""
    items = [dose_item(plan, slot, options) for slot in plan.doses()]
    items.extend(visit_item(plan, visit, options) for visit in plan.visits)
    return items


def site_visit_items(plans: Iterable[Plan], options: FeedOptions) -> list[FeedItem]:
    """The site's visits for nurses: subject code in the title (staff only), no alarms."""
    return [visit_item(plan, visit, options, staff=True) for plan in plans for visit in plan.visits]


def pharmacy_items(rows: Sequence[Preparation], options: FeedOptions) -> list[FeedItem]:
    """One all-day event per cycle to prepare, on its prepare-by date."""
    items = []
    for row in rows:
        status: Status = "CANCELLED" if row.cancelled else "CONFIRMED"
        head = "DO NOT PREPARE - " if row.cancelled else "Prepare "
        items.append(
            FeedItem(
                subject=row.subject,
                key=f"prepare:C{row.cycle}",
                summary=f"{head}{row.subject} C{row.cycle}: {clean(row.capsules, 60)}",
                description=_lines(
                    f"Cycle {row.cycle} day 1: {row.day1.isoformat()}.",
                    f"Dose: {format_dose(row.dose_mg)}.",
                    f"Status: {clean(row.status, 60)}.",
                ),
                location="",
                start=row.prepare_by,
                end=row.prepare_by + _DAY,
                duration=None,
                status=status,
                alarm=None,
            )
        )
    return items
