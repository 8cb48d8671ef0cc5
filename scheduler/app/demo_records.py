"""What the demo gives the pharmacist and the reminder worker to show: a cycle 1 dispensed and
counted back one capsule short of the diary (a discrepancy to review), cycles dispensed and
returned as expected, a cycle prepared and waiting to be dispensed; the site's clinic set up
and the next visits of the patients on treatment booked; and two patients opted in to console
reminders, with the last two days' reminders sent and the coming ones pending.

The records are made through the services, as a pharmacist and a worker would have made them
on those days: the reminders by opting in two days ago and running the dispatcher at each due
time since (``FixedClock``), so "sent" carries the time it would have been sent."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from scheduler.appointments.booking import book, proposals
from scheduler.appointments.clinics import set_up_clinic
from scheduler.clock import FixedClock
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.unit import Unit, unit_of_work
from scheduler.models import Reminder
from scheduler.pharmacy.accountability import dispense, prepare, record_return
from scheduler.reminders.channels.console import ConsoleChannel
from scheduler.reminders.dispatch import Dispatcher
from scheduler.reminders.outbox import set_preference
from scheduler.settings import Settings

LOT, EXPIRY = "DEMO-LOT-01", "2028-06-30"
REMINDER_SUBJECTS = {"DEMO-002": "ward-3-bed-12", "DEMO-003": "ward-3-bed-14"}
REMINDER_HISTORY = timedelta(days=2)


def _cycle_day1(unit: Unit, code: str, cycle: int) -> date:
    return subject_state(unit.session, code, unit.now).plan().cycles[cycle - 1].day1


def seed_demo_pharmacy(unit: Unit) -> None:
    """DEMO-002: cycle 1 dispensed (14 x 12 mg), 2 capsules back at C2D1 where the diary says
    1 (one missed dose): a discrepancy; cycle 2 dispensed. DEMO-003: cycle 1 dispensed and
    returned empty, as its diary says. DEMO-001: cycle 1 prepared, not yet dispensed."""
    for code, cycle, back in (("DEMO-002", 1, 2), ("DEMO-003", 1, 0)):
        day1 = _cycle_day1(unit, code, cycle)
        dispense(
            unit,
            code,
            cycle=cycle,
            on=day1,
            strength=12,
            count=14,
            lot=LOT,
            expiry=EXPIRY,
            reason="dispensed at the day 1 visit; preparation not entered",
        )
        next_day1 = _cycle_day1(unit, code, cycle + 1)
        record_return(unit, code, cycle=cycle, on=next_day1, strength=12, count=back)
    c2 = _cycle_day1(unit, "DEMO-002", 2)
    dispense(
        unit,
        "DEMO-002",
        cycle=2,
        on=c2,
        strength=12,
        count=14,
        lot=LOT,
        expiry=EXPIRY,
        reason="dispensed at the day 1 visit; preparation not entered",
    )
    prepare(unit, "DEMO-001", cycle=1)


DEMO_CAPACITY = {"C{cycle}D1": 20, "C{cycle}D15": 10}
BOOKED_SUBJECTS = ("DEMO-002", "DEMO-003")


def seed_demo_clinic(unit: Unit, site_code: str) -> None:
    """The site's clinic: weekdays 08:00 to 12:00, 30-minute appointments, 20 cycle day 1
    visits a day."""
    set_up_clinic(
        unit,
        site_code,
        open_days="mon,tue,wed,thu,fri",
        opens_at="08:00",
        closes_at="12:00",
        capacities=DEMO_CAPACITY,
    )


def seed_demo_appointments(unit: Unit) -> None:
    """Book the next two visits of each patient on treatment at the first free slot nearest
    the target, as the nurse would at the visit before; the visits after stay "to be
    booked"."""
    for code in BOOKED_SUBJECTS:
        state = subject_state(unit.session, code, unit.now)
        coming = [
            v
            for v in state.plan().visits
            if v.status in ("planned", "due") and not v.tentative and v.window_end >= state.today
        ]
        for visit in coming[:2]:
            slots = proposals(unit.session, state, visit.code, unit.settings, count=1)
            if slots:
                book(unit, code, visit.code, on=slots[0].on, at=slots[0].at)


def seed_demo_reminders(engine: Engine, settings: Settings, actor: str, now: datetime) -> None:
    """Opt two patients in as of two days ago, then send what fell due since, in order."""
    then = FixedClock(now - REMINDER_HISTORY)
    with unit_of_work(engine, actor, then, settings) as unit:
        for code, label in REMINDER_SUBJECTS.items():
            set_preference(unit, code, opted_in=True, channel="console", address=label)
    with Session(engine) as session:
        due = sorted(
            set(
                session.exec(
                    select(Reminder.due_at).where(
                        Reminder.status == "pending", col(Reminder.due_at) <= now
                    )
                ).all()
            )
        )
    discard = io.StringIO()
    for at in due:
        dispatcher = Dispatcher(
            engine,
            settings,
            FixedClock(at + timedelta(minutes=1)),
            {"console": lambda: ConsoleChannel(discard)},
            senders=1,
        )
        try:
            dispatcher.run_once()
        finally:
            dispatcher.close()
