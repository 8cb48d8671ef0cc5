"""Which patient reminders a plan wants: the rule, without the outbox that sends them.

A dose reminder at the dose time, in the subject's zone, for each dose slot still ``planned``
and not tentative (never for a held, cancelled, taken or missed dose); a visit reminder at
``visit_time`` the day before each visit not yet done. Each is useless after its grace: a dose
reminder after the protocol's ``late_dose_hours`` (a dose later than that counts as missed; the
deployment may shorten it), a visit reminder after ``visit_grace_hours``.

A body says the subject code, the date and what to do, built from numbers and fixed words only
(never from record text): a lock screen or a shared inbox must not show a drug, a diagnosis or
a reason. The dose strength is part of what to do (after a reduction old capsules may still be
at home); of the protocol's free-text "bring" list only the phrases in ``BRING_PHRASES`` pass.
After a dose change in the middle of a cycle, until the new capsules are dispensed, a dose
reminder says to collect them from the study pharmacy first (the patient holds only the old
strength); which days those are is the pharmacy's record, passed in as plain dates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from scheduler.core.appointments import Booking, booking_stands
from scheduler.core.dosing_days import DoseSlot
from scheduler.core.plan import Plan
from scheduler.core.times import local_instant
from scheduler.core.wording import N_, SOURCE, Wording

BRING_PHRASES = frozenset(
    {
        N_("ID"),
        N_("medication list"),
        N_("dosing diary"),
        N_("blood pressure log"),
        N_("all capsules and empty bottles"),
        N_("all remaining capsules"),
        N_("remaining tablets"),
    }
)
"""What a visit reminder may ask a patient to bring: generic things, named by no drug and no
condition (the shipped protocols' "surgery and pathology reports" stays in the handout and the
calendar). Capsules and diaries are there because the pill count at the visit needs them."""


TakenLink = Callable[[DoseSlot, datetime], str]
"""The one-tap link of a dose reminder: the slot and the instant the link expires."""


@dataclass(frozen=True, slots=True)
class Wanted:
    """A reminder the current plan asks for."""

    kind: str
    item_key: str
    due_at: datetime
    expires_at: datetime
    title: str
    body: str


def _hours(value: float) -> timedelta:
    return timedelta(hours=value)


def wanted_reminders(
    plan: Plan,
    now: datetime,
    *,
    horizon_days: int,
    dose_grace_hours: float | None,
    visit_time: time,
    visit_grace_hours: float,
    new_capsules_on: frozenset[date] = frozenset(),
    wording: Wording = SOURCE,
    bookings: Mapping[str, Booking] | None = None,
    taken_link: TakenLink | None = None,
) -> list[Wanted]:
    """The reminders ``plan`` asks for from ``now`` (aware) to ``horizon_days`` ahead, still
    within their grace. ``dose_grace_hours`` None leaves a dose reminder's grace at the
    protocol's ``[limits] late_dose_hours``; a value caps it. ``new_capsules_on``: days whose
    dose needs capsules of a new strength not dispensed yet. ``wording``: the subject's language
    (titles and bodies are its catalogue's sentences, dates and times in its formats).
    ``bookings``: the subject's appointments by visit code where the site books them (None
    where it does not): a visit is then reminded of only once booked, on the evening before
    the booked day, saying the booked time, and the reminder lapses when the appointment
    begins; a visit not booked yet, or whose booking the plan has moved away from, has none
    (the patient has no date to come on).
    ``taken_link``: the one-tap "I took it" link of a dose, given the slot and the instant the
    reminder expires (the link expires with it), for a body that carries one."""
    _ = wording.gettext
    zone = plan.anchors.time_zone
    horizon = now + timedelta(days=horizon_days)
    late = dose_grace = _hours(plan.protocol.limits.late_dose_hours)
    if dose_grace_hours is not None:
        dose_grace = min(dose_grace, _hours(dose_grace_hours))
    code = plan.subject
    wanted: list[Wanted] = []
    for slot in plan.doses():
        if slot.status != "planned" or slot.tentative:
            continue
        due = local_instant(slot.date, slot.time, zone)
        if due > horizon or due + dose_grace <= now:
            continue
        wanted.append(
            Wanted(
                kind="dose",
                item_key=slot.key,
                due_at=due,
                expires_at=due + dose_grace,
                title=_("Dose reminder {date}").format(date=wording.day(slot.date)),
                body=_dose_body(
                    wording,
                    code,
                    slot,
                    new_capsules_on,
                    taken_link(slot, due + late) if taken_link else None,
                ),
            )
        )
    visit_grace = _hours(visit_grace_hours)
    for visit in plan.visits:
        if visit.status not in ("planned", "due") or visit.tentative:
            continue
        day, expires, booked_at = visit.target, None, None
        if bookings is not None:
            booking = bookings.get(visit.code)
            if booking is None or not booking_stands(visit, booking):
                continue
            day, booked_at = booking.on, booking.at
            expires = local_instant(day, booking.at, zone)
        due = local_instant(day - timedelta(days=1), visit_time, zone)
        expires = min(due + visit_grace, expires) if expires else due + visit_grace
        if due > horizon or expires <= now:
            continue
        wanted.append(
            Wanted(
                kind="visit",
                item_key=visit.code,
                due_at=due,
                expires_at=expires,
                title=_("Visit reminder {date}").format(date=wording.day(day)),
                body=_visit_body(wording, code, day, visit.bring, booked_at),
            )
        )
    return wanted


def _dose_body(
    wording: Wording,
    code: str,
    slot: DoseSlot,
    new_capsules_on: frozenset[date],
    link: str | None,
) -> str:
    """The dose sentence; with the one-tap link, the variant that ends with it (whole
    sentences in the catalogue, never a fragment appended)."""
    _ = wording.gettext
    values = {
        "code": code,
        "date": wording.day(slot.date),
        "dose": f"{slot.dose_mg:g} mg",
        "time": wording.time(slot.time),
        "link": link or "",
    }
    if slot.date in new_capsules_on and link:
        return _(
            "{code}, {date}: your dose has changed to {dose}. Collect your new capsules from "
            "the study pharmacy before you take your {dose} dose due at {time}. Do not take "
            "your old capsules for it. Once taken, tap: {link}"
        ).format(**values)
    if link:
        return _(
            "{code}, {date}: take your {dose} dose due at {time}. Once taken, tap: {link}"
        ).format(**values)
    if slot.date in new_capsules_on:
        return _(
            "{code}, {date}: your dose has changed to {dose}. Collect your new capsules from "
            "the study pharmacy before you take your {dose} dose due at {time}. Do not take "
            "your old capsules for it."
        ).format(**values)
    return _("{code}, {date}: take your {dose} dose due at {time}.").format(**values)


def _visit_body(
    wording: Wording, code: str, day: date, listed: str, booked_at: time | None = None
) -> str:
    """The visit sentence, with what to bring when the protocol lists generic things, and the
    appointment's time when it is booked: whole sentences in the catalogue, never a fragment
    appended to another. The place is not named: the body may show on a lock screen."""
    _ = wording.gettext
    phrases = [_(p) for p in (part.strip() for part in listed.split(",")) if p in BRING_PHRASES]
    values = {"code": code, "date": wording.day(day)}
    if booked_at is not None:
        values["time"] = wording.time(booked_at)
        if not phrases:
            return _("{code}, {date}: clinic appointment tomorrow at {time}.").format(**values)
        return _(
            "{code}, {date}: clinic appointment tomorrow at {time}. Please bring: {things}."
        ).format(things=wording.enumerate(phrases), **values)
    if not phrases:
        return _("{code}, {date}: clinic visit tomorrow.").format(**values)
    return _("{code}, {date}: clinic visit tomorrow. Please bring: {things}.").format(
        things=wording.enumerate(phrases), **values
    )
