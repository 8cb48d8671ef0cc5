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


def _day_label(plan: Plan, slot: DoseSlot) -> str:
    """ "day 8 of 14" (the patient's count of the days they take the drug in a cycle, not the
    cycle's day number), with the dose of the day when there are several: never "C2 D8"."""
    days = plan.protocol.schedule.dosing_days
    number = days.index(slot.day) + 1 if slot.day in days else slot.day
    if plan.protocol.schedule.administrations_per_day > 1:
        return f"day {number} of {len(days)}, dose {slot.slot}"
    return f"day {number} of {len(days)}"


def _product(plan: Plan, options: FeedOptions) -> str:
    form = clean(plan.protocol.drug.form, 40) or "dose"
    if options.show_drug_name:
        return f"{clean(plan.protocol.drug.name, 60).capitalize()} {form}"
    return f"Study {form}"


_UNITS = {"capsule": "capsules", "tablet": "tablets"}


def _units(plan: Plan) -> str:
    """What the patient collects, in the plural: "capsules", "tablets"."""
    return _UNITS.get(plan.protocol.drug.form.lower(), "study medicine")


def _contact(options: FeedOptions) -> str:
    phone = clean(options.clinic_phone, 40)
    return f"Questions: call the study team at {phone}." if phone else ""


def _lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


_DOSE_SENTENCES = {
    "taken": "You took this dose of {dose}.",
    "late": "You took this dose of {dose}, later than planned.",
    "taken_outside_window": "You took this dose of {dose}, later than planned.",
    "missed": "This dose of {dose} was not taken.",
}
"""What a dose already recorded says instead of "take one dose at this time": whole sentences,
so each can go to the translation catalogue as it is."""

_TAKE = "Take one dose of {dose} by mouth at this time."
_UNRECORDED = (
    "This day has passed and your diary for it is not with the study team yet. "
    "Tell them whether you took this dose; do not take it now."
)
"""A past dose without a record: never "take one dose at this time" once the day is over."""

_DOSE_WORDS = {
    "taken": " (taken)",
    "late": " (taken late)",
    "taken_outside_window": " (taken late)",
    "missed": " (missed)",
}


def _collect_first(dose: str) -> str:
    return (
        f"Your dose has changed to {dose}. Before you take this dose, collect your new "
        "capsules from the study pharmacy. Do not take your old capsules for it."
    )


def dose_item(
    plan: Plan, slot: DoseSlot, options: FeedOptions, *, collect_first: bool = False
) -> FeedItem:
    """A dose slot at its local time (DST policy of ``local_instant``: a time in a spring-forward
    gap is shifted forward by the gap, a time in an autumn fold is its first occurrence).

    A gap time is written as the resolved wall time (02:30 -> 03:30). A fold time is written in
    UTC: RFC 5545 says an ambiguous local time is its first occurrence, but ical.js and khal
    read the second, an hour late; a UTC time is read alike everywhere.

    ``collect_first``: the dose was changed mid-cycle and the new capsules are not dispensed
    yet, so the patient holds only the old strength: the event says to collect them first.
    """
    zone = plan.anchors.time_zone
    instant = local_instant(slot.date, slot.time, zone)
    start = instant.astimezone(zone)
    if start.replace(fold=1).utcoffset() != start.utcoffset():
        start = instant
    label = _day_label(plan, slot)
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
        waiting = collect_first and slot.status == "planned"
        if waiting:
            summary += " - collect new capsules first"
        description = _lines(
            _collect_first(format_dose(slot.dose_mg)) if waiting else "",
            _DOSE_SENTENCES.get(slot.status, "").format(dose=dose)
            or (_UNRECORDED if slot.date < plan.today else _TAKE.format(dose=dose)),
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
    if not staff and visit.dispense and visit.cycle is not None:
        # The protocol's name is for staff ("Cycle 1 Day 1 (first dose, dispense)").
        summary = f"Study visit: first day of cycle {visit.cycle}: collect your {_units(plan)}"
    if visit.status == "cancelled":
        status = "CANCELLED"
        summary = f"CANCELLED - {summary}"
    elif visit.status == "done":
        summary += " (done)"
    elif visit.tentative:
        summary += " (date to be confirmed)"
    if visit.actual is not None:
        window = f"Done on {visit.actual.isoformat()}."
    elif visit.window_end > visit.window_start:
        window = f"Window: {visit.window_start.isoformat()} to {visit.window_end.isoformat()}."
    else:
        window = f"Date: {visit.target.isoformat()}."
    bring = clean(visit.bring, 200)
    description = _lines(
        window,
        f"Please bring: {bring}." if bring and not staff else "",
        f"Visit code: {visit.code}." if staff else "",
        "" if staff else _contact(options),
    )
    alarm = None
    # Not tied to due/overdue, which move with the date: an alarm in the past never rings.
    # A tentative date is not a date to come on: no alarm until it is confirmed.
    if (
        options.alarms
        and visit.status not in ("done", "cancelled")
        and not visit.tentative
        and not staff
    ):
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


def patient_items(
    plan: Plan, options: FeedOptions, *, new_capsules_on: frozenset[date] = frozenset()
) -> list[FeedItem]:
    """Every dose slot and visit of one subject's plan (before the 30-day rule).
    ``new_capsules_on``: days whose dose needs capsules of a new strength not yet dispensed."""
    items = [
        dose_item(plan, slot, options, collect_first=slot.date in new_capsules_on)
        for slot in plan.doses()
    ]
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
