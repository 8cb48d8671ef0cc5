"""Feed items: what one event shows, built from a plan with template text only.

An item is plain data (no icalendar objects), so it can be fingerprinted to decide whether a
client-visible change happened, and rendered later with its stored identity.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Literal

from calendars.options import FeedOptions
from calendars.text import clean
from scheduler.core import Plan
from scheduler.core.appointments import Booking, booking_stands
from scheduler.core.dosing_days import DoseSlot
from scheduler.core.plan import format_dose
from scheduler.core.times import local_instant
from scheduler.core.visits import VisitPlan
from scheduler.core.wording import N_, Wording

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


def _day_label(plan: Plan, slot: DoseSlot, wording: Wording) -> str:
    """ "day 8 of 14" (the patient's count of the days they take the drug in a cycle, not the
    cycle's day number), with the dose of the day when there are several: never "C2 D8"."""
    _ = wording.gettext
    days = plan.protocol.schedule.dosing_days
    number = days.index(slot.day) + 1 if slot.day in days else slot.day
    if plan.protocol.schedule.administrations_per_day > 1:
        return _("day {number} of {total}, dose {slot}").format(
            number=number, total=len(days), slot=slot.slot
        )
    return _("day {number} of {total}").format(number=number, total=len(days))


_PRODUCTS = {"capsule": N_("Study capsule"), "tablet": N_("Study tablet")}
_OTHER_PRODUCT = N_("Study medicine")
_NAMED_PRODUCTS = {"capsule": N_("{drug} capsule"), "tablet": N_("{drug} tablet")}
_UNITS = {"capsule": N_("capsules"), "tablet": N_("tablets")}
_OTHER_UNITS = N_("study medicine")


def _product(plan: Plan, options: FeedOptions, wording: Wording) -> str:
    """ "Study capsule" (privacy by default), or the drug's name when the site shows it."""
    _ = wording.gettext
    form = plan.protocol.drug.form.lower()
    if options.show_drug_name:
        drug = clean(plan.protocol.drug.name, 60).capitalize()
        named = _NAMED_PRODUCTS.get(form)
        return _(named).format(drug=drug) if named else drug
    return _(_PRODUCTS.get(form, _OTHER_PRODUCT))


def _units(plan: Plan, wording: Wording) -> str:
    """What the patient collects, in the plural: "capsules", "tablets"."""
    return wording.gettext(_UNITS.get(plan.protocol.drug.form.lower(), _OTHER_UNITS))


def _contact(options: FeedOptions, wording: Wording) -> str:
    phone = clean(options.clinic_phone, 40)
    if not phone:
        return ""
    return wording.gettext("Questions: call the study team at {phone}.").format(phone=phone)


def _lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


_DOSE_SENTENCES = {
    "taken": N_("You took this dose of {dose}."),
    "late": N_("You took this dose of {dose}, later than planned."),
    "taken_outside_window": N_("You took this dose of {dose}, later than planned."),
    "missed": N_("This dose of {dose} was not taken."),
}
"""What a dose already recorded says instead of "take one dose at this time": whole sentences,
each a message of the catalogue."""

_TAKE = N_("Take one dose of {dose} by mouth at this time.")
_UNRECORDED = N_(
    "This day has passed and your diary for it is not with the study team yet. "
    "Tell them whether you took this dose; do not take it now."
)
"""A past dose without a record: never "take one dose at this time" once the day is over."""

_DOSE_TITLES = {
    "taken": N_("{dose} - {day} (taken)"),
    "late": N_("{dose} - {day} (taken late)"),
    "taken_outside_window": N_("{dose} - {day} (taken late)"),
    "missed": N_("{dose} - {day} (missed)"),
}
_PLANNED_TITLES = {
    # (tentative, new capsules to collect first) -> the whole title
    (False, False): N_("{dose} - {day}"),
    (True, False): N_("{dose} - {day} (date to be confirmed)"),
    (False, True): N_("{dose} - {day} - collect new capsules first"),
    (True, True): N_("{dose} - {day} (date to be confirmed) - collect new capsules first"),
}
"""A dose's title is one message per case, so no language has to glue words to a title."""


def _local_start(on: date, at: time, plan: Plan) -> datetime:
    """A wall time of the subject's zone as DTSTART: a gap time as the resolved wall time, a
    fold time in UTC (see ``dose_item``)."""
    zone = plan.anchors.time_zone
    instant = local_instant(on, at, zone)
    start = instant.astimezone(zone)
    if start.replace(fold=1).utcoffset() != start.utcoffset():
        return instant
    return start


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
    wording = options.wording
    _ = wording.gettext
    start = _local_start(slot.date, slot.time, plan)
    label = _day_label(plan, slot, wording)
    dose = f"{_product(plan, options, wording)} {format_dose(slot.dose_mg)}"
    status: Status = "CONFIRMED"
    alarm: timedelta | None = None
    if slot.status == "held":
        status = "CANCELLED"
        summary = _("HOLD - do not take - {day}").format(day=label)
        description = _lines(
            _("Dosing is on hold. Do not take a dose on this day."),
            _("The study team will tell you when to start again."),
            _contact(options, wording),
        )
    elif slot.status == "cancelled":
        status = "CANCELLED"
        summary = _("CANCELLED - do not take - {day}").format(day=label)
        description = _lines(
            _("This dose is cancelled. Do not take it."), _contact(options, wording)
        )
    else:
        waiting = collect_first and slot.status == "planned"
        recorded = _DOSE_TITLES.get(slot.status)
        if recorded is not None and not slot.tentative:
            title = recorded
        else:
            title = _PLANNED_TITLES[(slot.tentative, waiting)]
        summary = _(title).format(dose=dose, day=label)
        if slot.tentative:
            status = "TENTATIVE"
        sentence = _DOSE_SENTENCES.get(slot.status)
        if sentence is not None:
            what = _(sentence).format(dose=dose)
        elif slot.date < plan.today:
            what = _(_UNRECORDED)
        else:
            what = _(_TAKE).format(dose=dose)
        description = _lines(
            _collect_first(format_dose(slot.dose_mg), wording) if waiting else "",
            what,
            _("A missed dose is not made up: do not take two doses on one day."),
            _contact(options, wording),
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
        alarm_text=_("Time to take {dose}").format(dose=dose) if alarm is not None else "",
    )


def _collect_first(dose: str, wording: Wording) -> str:
    return wording.gettext(
        "Your dose has changed to {dose}. Before you take this dose, collect your new "
        "capsules from the study pharmacy. Do not take your old capsules for it."
    ).format(dose=dose)


_VISIT_TITLES = {
    # (status word, tentative) -> the whole title of a patient's visit
    ("", False): N_("Study visit: {name}"),
    ("", True): N_("Study visit: {name} (date to be confirmed)"),
    ("done", False): N_("Study visit: {name} (done)"),
    ("cancelled", False): N_("CANCELLED - Study visit: {name}"),
}
_DISPENSE_NAME = N_("first day of cycle {cycle}: collect your {units}")
"""A dispensing visit in the patient's words (the protocol's name is for staff: "Cycle 1 Day 1
(first dose, dispense)")."""


def _visit_summary(visit: VisitPlan, name: str, wording: Wording) -> str:
    word = visit.status if visit.status in ("done", "cancelled") else ""
    tentative = visit.tentative and not word
    return wording.gettext(_VISIT_TITLES[(word, tentative)]).format(name=name)


_TO_BE_BOOKED = N_("Appointment to be booked: {name}")
_TO_BE_CONFIRMED = N_("Study visit: {name} (date to be confirmed)")
_BOOK_WITH_YOU = N_("The study team will book a date and time for this visit with you.")
_MOVED = N_(
    "The date of this visit is to be confirmed: the study team will book a new date and time "
    "with you."
)


def _appointment_item(
    plan: Plan, visit: VisitPlan, options: FeedOptions, booking: Booking | None
) -> FeedItem:
    """A visit of a site that books appointments: the booked date and time as a timed event in
    the subject's zone, at the site; a visit not booked yet, on its target as an all-day event
    "appointment to be booked"; a booking the plan has moved away from, never its stale date:
    "date to be confirmed" until it is booked again."""
    wording = options.wording
    _ = wording.gettext
    text = plan.protocol.visit_text(visit.code, wording.language)
    name = named = clean(text.name if text else visit.name, 80)
    bring = clean(text.bring if text else visit.bring, 200)
    if visit.dispense and visit.cycle is not None:
        name = _(_DISPENSE_NAME).format(cycle=visit.cycle, units=_units(plan, wording))
    bring_line = _("Please bring: {things}.").format(things=bring) if bring else ""
    key = f"visit:{visit.code}"
    if booking is not None and booking_stands(visit, booking):
        start = _local_start(booking.on, booking.at, plan)
        alarm = None
        if options.alarms:
            evening = datetime.combine(booking.on - _DAY, options.visit_alarm)
            alarm = evening - datetime.combine(booking.on, booking.at)
        place = clean(booking.place, 300)
        return FeedItem(
            subject=plan.subject,
            key=key,
            summary=_("Study visit: {name}").format(name=name),
            description=_lines(
                _("Appointment: {date} at {time}.").format(
                    date=wording.day(booking.on), time=wording.time(booking.at)
                ),
                _("Place: {place}.").format(place=place) if place else "",
                bring_line,
                _contact(options, wording),
            ),
            location=place,
            start=start,
            end=None,
            duration=timedelta(minutes=booking.minutes),
            status="CONFIRMED",
            alarm=alarm,
            alarm_text=_("Tomorrow at {time}: study visit ({name})").format(
                time=wording.time(booking.at), name=named
            )
            if alarm is not None
            else "",
        )
    if booking is not None:
        summary = _(_TO_BE_CONFIRMED).format(name=name)
        lines = [_(_MOVED)]
    else:
        summary = _(_TO_BE_BOOKED).format(name=name)
        window = _("Date: {date}.").format(date=wording.day(visit.target))
        if visit.window_end > visit.window_start:
            window = _("Window: {first} to {last}.").format(
                first=wording.day(visit.window_start), last=wording.day(visit.window_end)
            )
        lines = [window, _(_BOOK_WITH_YOU)]
    return FeedItem(
        subject=plan.subject,
        key=key,
        summary=summary,
        description=_lines(*lines, bring_line, _contact(options, wording)),
        location=clean(options.site_address),
        start=visit.target,
        end=visit.target + _DAY,
        duration=None,
        status="TENTATIVE",
        alarm=None,
    )


def visit_item(
    plan: Plan,
    visit: VisitPlan,
    options: FeedOptions,
    *,
    staff: bool = False,
    bookings: Mapping[str, Booking] | None = None,
) -> FeedItem:
    """A visit as an all-day event on its target date (the date it was done, once done): no
    time of day is planned for visits, and an all-day event never shifts across zones.

    A patient's visit reads in the subject's language: its name and what to bring come from
    the protocol's translations (the source text when the protocol has none), dates in the
    locale's format. A staff feed stays in the source language with the visit code.

    ``bookings``: the subject's current appointments when the site books them (its clinic is
    set up): a visit still to come shows its appointment (``_appointment_item``); a visit whose
    window has closed, and one behind an open hold that was never booked, read as before."""
    on = visit.actual or visit.target
    if staff:
        return _staff_visit_item(plan, visit, options, on)
    if bookings is not None and visit.status in ("planned", "due"):
        booking = bookings.get(visit.code)
        if booking is not None or not visit.tentative:
            return _appointment_item(plan, visit, options, booking)
    wording = options.wording
    _ = wording.gettext
    text = plan.protocol.visit_text(visit.code, wording.language)
    name = named = clean(text.name if text else visit.name, 80)
    bring = clean(text.bring if text else visit.bring, 200)
    status: Status = "TENTATIVE" if visit.tentative else "CONFIRMED"
    if visit.dispense and visit.cycle is not None:
        name = _(_DISPENSE_NAME).format(cycle=visit.cycle, units=_units(plan, wording))
    if visit.status == "cancelled":
        status = "CANCELLED"
    summary = _visit_summary(visit, name, wording)
    if visit.actual is not None:
        window = _("Done on {date}.").format(date=wording.day(visit.actual))
    elif visit.window_end > visit.window_start:
        window = _("Window: {first} to {last}.").format(
            first=wording.day(visit.window_start), last=wording.day(visit.window_end)
        )
    else:
        window = _("Date: {date}.").format(date=wording.day(visit.target))
    description = _lines(
        window,
        _("Please bring: {things}.").format(things=bring) if bring else "",
        _contact(options, wording),
    )
    alarm = None
    # Not tied to due/overdue, which move with the date: an alarm in the past never rings.
    # A tentative date is not a date to come on: no alarm until it is confirmed.
    if options.alarms and visit.status not in ("done", "cancelled") and not visit.tentative:
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
        alarm_text=_("Tomorrow: study visit ({name})").format(name=named)
        if alarm is not None
        else "",
    )


def _staff_visit_item(plan: Plan, visit: VisitPlan, options: FeedOptions, on: date) -> FeedItem:
    """A visit in the nurses' site feed: subject code and visit code, no alarm, source text."""
    name = clean(visit.name, 80)
    status: Status = "TENTATIVE" if visit.tentative else "CONFIRMED"
    summary = f"{plan.subject} Study visit: {name}"
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
    return FeedItem(
        subject=plan.subject,
        key=f"visit:{visit.code}",
        summary=summary,
        description=_lines(window, f"Visit code: {visit.code}."),
        location=clean(options.site_address),
        start=on,
        end=on + _DAY,
        duration=None,
        status=status,
        alarm=None,
    )


def patient_items(
    plan: Plan,
    options: FeedOptions,
    *,
    new_capsules_on: frozenset[date] = frozenset(),
    bookings: Mapping[str, Booking] | None = None,
) -> list[FeedItem]:
    """Every dose slot and visit of one subject's plan (before the 30-day rule).
    ``new_capsules_on``: days whose dose needs capsules of a new strength not yet dispensed.
    ``bookings``: the subject's appointments by visit code, None where the site books none."""
    items = [
        dose_item(plan, slot, options, collect_first=slot.date in new_capsules_on)
        for slot in plan.doses()
    ]
    items.extend(visit_item(plan, visit, options, bookings=bookings) for visit in plan.visits)
    return items


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteAppointment:
    """One appointment of the site's day list (the service supplies it)."""

    subject: str
    visit_code: str
    visit_name: str
    start: datetime
    """Aware, in the site's zone."""
    minutes: int
    stale: bool


def site_appointment_items(rows: Sequence[SiteAppointment], options: FeedOptions) -> list[FeedItem]:
    """The clinic's booked appointments for nurses: one timed event each, subject and visit
    code in the title (staff only), no alarms; a booking whose visit has moved says so."""
    items = []
    for row in rows:
        summary = f"{row.subject} {row.visit_code}: {clean(row.visit_name, 80)}"
        if row.stale:
            summary = f"REBOOK - {summary}"
        items.append(
            FeedItem(
                subject=row.subject,
                key=f"appointment:{row.visit_code}",
                summary=summary,
                description=_lines(
                    f"Visit code: {row.visit_code}.",
                    "The visit has moved out of this day: book it again." if row.stale else "",
                ),
                location=clean(options.site_address),
                start=row.start,
                end=None,
                duration=timedelta(minutes=row.minutes),
                status="TENTATIVE" if row.stale else "CONFIRMED",
                alarm=None,
            )
        )
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
