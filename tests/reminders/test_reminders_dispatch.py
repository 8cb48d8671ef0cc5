"""Sending due reminders to a real SMTP server and a real HTTP receiver, on SQLite and PostgreSQL:
marked sent only once accepted, retried with backoff, given up on, expired after downtime."""

import threading
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr
from reminder_testkit import queue_rows
from sqlmodel import select

from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.kernel.unit import unit_of_work
from scheduler.models import Reminder
from scheduler.reminders.channels.registry import factories
from scheduler.reminders.dispatch import Dispatcher, claim
from scheduler.reminders.outbox import outbox_status

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def _dispatcher(settings, now=NOW, **kwargs):
    clock = FixedClock(now)
    return Dispatcher(
        get_engine(settings.database_url), settings, clock, factories(settings, clock), **kwargs
    )


def _run(settings, now=NOW, **kwargs):
    dispatcher = _dispatcher(settings, now, **kwargs)
    try:
        return dispatcher.run_once()
    finally:
        dispatcher.close()


def _rows(settings):
    with unit_of_work(get_engine(settings.database_url), "tester") as unit:
        return {r.idempotency_key: r for r in unit.session.exec(select(Reminder))}


def test_due_reminders_reach_the_smtp_server_and_the_webhook_once_each(
    reminder_settings, smtp_receiver, webhook_receiver
):
    keys = queue_rows(reminder_settings.database_url, 30, NOW)
    outcome = _run(reminder_settings)
    assert outcome == {"sent": 30}
    received = smtp_receiver.deliveries.counts() + webhook_receiver.deliveries.counts()
    assert received == dict.fromkeys(keys, 1)
    assert webhook_receiver.bad_signatures == 0
    rows = _rows(reminder_settings)
    assert {r.status for r in rows.values()} == {"sent"}
    assert all(r.sent_at == NOW and r.claimed_by is None for r in rows.values())
    assert _run(reminder_settings) == {}  # nothing is sent twice


def test_a_reminder_not_yet_due_stays_pending(reminder_settings, smtp_receiver):
    queue_rows(reminder_settings.database_url, 2, NOW, late=-timedelta(minutes=5))
    assert _run(reminder_settings) == {}
    assert _run(reminder_settings, NOW + timedelta(minutes=5)) == {"sent": 2}


def test_after_downtime_a_dose_reminder_4_hours_late_is_sent_one_14_hours_late_expires(
    reminder_settings, smtp_receiver, webhook_receiver
):
    fresh = queue_rows(reminder_settings.database_url, 2, NOW, late=timedelta(hours=4), prefix="A")
    stale = queue_rows(reminder_settings.database_url, 2, NOW, late=timedelta(hours=14), prefix="B")
    assert _run(reminder_settings) == {"sent": 2, "expired": 2}
    received = set(smtp_receiver.deliveries.keys) | set(webhook_receiver.deliveries.keys)
    assert received == set(fresh)
    assert {_rows(reminder_settings)[k].status for k in stale} == {"expired"}


def test_a_refused_delivery_is_retried_with_exponential_backoff_then_given_up(
    reminder_settings, smtp_receiver
):
    settings = reminder_settings.model_copy(update={"reminder_max_attempts": 3})
    [key] = queue_rows(settings.database_url, 1, NOW, channels=("email",))
    smtp_receiver.deliveries.refuse_next = 10
    assert _run(settings) == {"pending": 1}
    row = _rows(settings)[key]
    assert (row.attempts, row.next_attempt_at) == (1, NOW + timedelta(seconds=60))
    assert "451" in row.last_error
    assert _run(settings, NOW + timedelta(seconds=59)) == {}  # backing off
    assert _run(settings, NOW + timedelta(seconds=60)) == {"pending": 1}
    assert _rows(settings)[key].next_attempt_at == NOW + timedelta(seconds=180)  # 60 + 2 x 60
    assert _run(settings, NOW + timedelta(seconds=180)) == {"failed": 1}
    assert smtp_receiver.deliveries.refused == 3
    with unit_of_work(get_engine(settings.database_url), "tester") as unit:
        status = outbox_status(unit.session)
    assert status.counts["failed"] == 1
    assert [f.attempts for f in status.failures] == [3]
    assert "451 try again later" in status.failures[0].last_error


def test_a_temporary_failure_then_success_sends_once(reminder_settings, webhook_receiver):
    [key] = queue_rows(reminder_settings.database_url, 1, NOW, channels=("webhook",))
    webhook_receiver.deliveries.refuse_next = 1
    assert _run(reminder_settings) == {"pending": 1}
    assert _run(reminder_settings, NOW + timedelta(minutes=1)) == {"sent": 1}
    assert webhook_receiver.deliveries.counts() == {key: 1}
    assert _rows(reminder_settings)[key].attempts == 2


def test_a_refused_recipient_fails_at_once_without_retrying(reminder_settings, smtp_receiver):
    [key] = queue_rows(reminder_settings.database_url, 1, NOW, channels=("email",))
    with unit_of_work(get_engine(reminder_settings.database_url), "tester") as unit:
        row = unit.session.exec(select(Reminder)).one()
        row.address = "nobody@refused.invalid"
        unit.session.add(row)
    assert _run(reminder_settings) == {"failed": 1}
    assert "550" in _rows(reminder_settings)[key].last_error


def test_a_wrong_webhook_secret_is_rejected_then_retried_once_fixed(
    reminder_settings, webhook_receiver
):
    settings = reminder_settings.model_copy(
        update={"webhook_secret": SecretStr("another-secret-0123456789")}
    )
    [key] = queue_rows(settings.database_url, 1, NOW, channels=("webhook",))
    # A refused signature is a wrong setting, not a wrong message: retried, not given up.
    assert _run(settings) == {"pending": 1}
    assert webhook_receiver.bad_signatures == 1
    assert webhook_receiver.deliveries.keys == []
    assert "401" in _rows(settings)[key].last_error
    assert _run(reminder_settings, NOW + timedelta(minutes=1)) == {"sent": 1}  # secret fixed
    assert webhook_receiver.deliveries.counts() == {key: 1}


def test_a_request_the_gateway_rejects_is_given_up_at_once(reminder_settings, webhook_receiver):
    [key] = queue_rows(reminder_settings.database_url, 1, NOW, channels=("webhook",))
    webhook_receiver.reject_with = 422
    assert _run(reminder_settings) == {"failed": 1}
    assert "422" in _rows(reminder_settings)[key].last_error


def test_a_claim_whose_lease_ran_out_is_taken_over(reminder_settings, smtp_receiver):
    [key] = queue_rows(reminder_settings.database_url, 1, NOW, channels=("email",))
    engine = get_engine(reminder_settings.database_url)
    claimed, _ = claim(engine, "dead-worker", NOW, 10, reminder_settings)
    assert [c.idempotency_key for c in claimed] == [key]
    assert _run(reminder_settings, NOW + timedelta(seconds=299)) == {}
    assert _run(reminder_settings, NOW + timedelta(seconds=300)) == {"sent": 1}
    assert _rows(reminder_settings)[key].attempts == 2


def test_two_workers_dispatching_one_batch_at_once_send_each_reminder_once(
    reminder_settings, smtp_receiver, webhook_receiver
):
    keys = queue_rows(reminder_settings.database_url, 400, NOW)
    settings = reminder_settings.model_copy(update={"reminder_batch_size": 10})
    workers = [_dispatcher(settings, worker=f"w{n}", senders=2) for n in range(2)]
    outcomes = [None, None]
    start = threading.Barrier(2)

    def run(n):
        start.wait()
        outcomes[n] = workers[n].run_once()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.close()
    received = smtp_receiver.deliveries.counts() + webhook_receiver.deliveries.counts()
    assert received == dict.fromkeys(keys, 1)
    assert outcomes[0]["sent"] + outcomes[1]["sent"] == 400
    assert outcomes[0]["sent"] > 0 and outcomes[1]["sent"] > 0
    senders = {r.claimed_by for r in _rows(settings).values()}
    assert senders == {None}
