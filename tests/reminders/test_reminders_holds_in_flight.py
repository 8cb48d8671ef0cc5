"""A hold recorded while reminders are pending, or while a worker is sending the batch they are
in: no reminder for a held dose is sent, and a reminder already sent keeps its record.

Six subjects start cycle 1 on 2 March 2026 in Shanghai (doses at 08:00, 00:00 UTC) and opted in
to email reminders. The worker runs at 08:30 on 3 March: each subject's C1D2 reminder is due (the
C1D1 ones are past their 12-hour grace and expire)."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.models import Reminder, Subject
from scheduler.reminders.channels.registry import factories
from scheduler.reminders.dispatch import Dispatcher
from scheduler.reminders.outbox import set_preference
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold

SENT_AT = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)
CODES = [f"S-00{n}" for n in range(1, 7)]


@pytest.fixture
def subjects(units, reminder_settings):
    with units() as unit:
        for n, code in enumerate(CODES, start=1):
            enroll(unit, code, c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1")
            set_preference(unit, code, opted_in=True, channel="email", address=f"p{n}@example.org")
    return CODES


def _dispatch(settings, channels=None):
    clock = FixedClock(SENT_AT)
    settings = settings.model_copy(update={"reminder_batch_size": 50})
    dispatcher = Dispatcher(
        get_engine(settings.database_url),
        settings,
        clock,
        channels or factories(settings, clock),
        senders=1,
    )
    try:
        return dispatcher.run_once()
    finally:
        dispatcher.close()


def _c1d2(units):
    with units() as unit:
        rows = unit.session.exec(
            select(Subject.code, Reminder.status, Reminder.last_error)
            .join(Subject, Subject.id == Reminder.subject_id)
            .where(Reminder.item_key == "C1D2", Reminder.kind == "dose")
        ).all()
    return {code: (status, error) for code, status, error in rows}


def _received(smtp_receiver):
    """Subject code of each message received, from its body."""
    return sorted(body.split(",")[0] for body in smtp_receiver.deliveries.bodies.values())


def _with_hook(settings, before_send):
    """The real email channel, with ``before_send(message)`` run before each send."""
    makers = factories(settings, FixedClock(SENT_AT))

    class Hooked:
        def __init__(self):
            self.inner = makers["email"]()

        def send(self, message):
            before_send(message)
            self.inner.send(message)

        def close(self):
            self.inner.close()

    return {**makers, "email": Hooked}


def _hold(units, code):
    with units(now=datetime(2026, 3, 3, 0, 20, tzinfo=UTC)) as unit:
        hold(unit, code, start="2026-03-03", reason="grade 3 hypertension")


def test_a_hold_recorded_while_reminders_are_pending_stops_the_held_dose_reminder(
    units, subjects, reminder_settings, smtp_receiver
):
    _hold(units, "S-002")
    assert _c1d2(units)["S-002"][0] == "cancelled"
    outcome = _dispatch(reminder_settings)
    # The C1D1 reminders are past their grace: S-002's was cancelled with the hold, since the
    # plan no longer wants it; the others expire when the worker meets them.
    assert outcome == {"sent": 5, "expired": 5}
    assert _received(smtp_receiver) == ["S-001", "S-003", "S-004", "S-005", "S-006"]


def test_a_hold_recorded_while_the_batch_is_being_sent_withdraws_its_reminder(
    units, subjects, reminder_settings, smtp_receiver
):
    held = []

    def hold_the_last_subject_once(message):
        if not held:  # sending the first of the batch: S-006's reminder is claimed, not sent
            _hold(units, "S-006")
            held.append("S-006")

    outcome = _dispatch(
        reminder_settings, _with_hook(reminder_settings, hold_the_last_subject_once)
    )
    assert outcome == {"sent": 5, "withdrawn": 1, "expired": 6}
    assert "S-006" not in _received(smtp_receiver)
    assert _c1d2(units)["S-006"][0] == "cancelled"


def test_a_hold_committed_during_the_send_itself_leaves_a_true_record(
    units, subjects, reminder_settings, smtp_receiver
):
    """The one case no check can stop: the hold commits while the channel already has the
    message. The row then says it was sent, and why it looks odd."""

    def hold_this_subject(message):
        if message.subject_code == "S-003":
            _hold(units, "S-003")

    outcome = _dispatch(reminder_settings, _with_hook(reminder_settings, hold_this_subject))
    assert outcome == {"sent": 5, "sent_after_cancel": 1, "expired": 6}
    status, error = _c1d2(units)["S-003"]
    assert status == "sent" and "cancelled while it was being sent" in error


def test_a_hold_after_the_reminder_was_sent_keeps_it_sent(
    units, subjects, reminder_settings, smtp_receiver
):
    assert _dispatch(reminder_settings)["sent"] == 6
    _hold(units, "S-001")
    assert _c1d2(units)["S-001"][0] == "sent"
    assert _dispatch(reminder_settings) == {}
