"""Worker processes killed with SIGKILL at random points while dispatching a batch, then
restarted: every due reminder arrives, and at most once more than once (the documented window
between the channel accepting a message and the worker marking it sent)."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from reminder_testkit import SECRET, queue_rows
from sqlmodel import func, select

from scheduler.clock import SystemClock
from scheduler.db import get_engine
from scheduler.models import Reminder
from scheduler.services.unit import unit_of_work

SENDERS = 2
LEASE_SECONDS = 2


def _worker(db_url, smtp_receiver, webhook_receiver):
    env = dict(
        os.environ,
        DOSING_DATABASE_URL=db_url,
        DOSING_SMTP_PORT=str(smtp_receiver.port),
        DOSING_WEBHOOK_URL=webhook_receiver.url,
        DOSING_WEBHOOK_SECRET=SECRET,
        DOSING_REMINDER_LEASE_SECONDS=str(LEASE_SECONDS),
        DOSING_SMTP_TIMEOUT_SECONDS="0.5",
        DOSING_REMINDER_BATCH_SIZE="10",
        DOSING_REMINDER_SENDERS=str(SENDERS),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "scheduler", "worker", "--once"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _delivered(*receivers):
    return sum(len(r.deliveries.keys) for r in receivers)


def _unfinished(db_url):
    with unit_of_work(get_engine(db_url), "tester") as unit:
        return unit.session.exec(
            select(func.count()).where(Reminder.status.in_(("pending", "claimed")))
        ).one()


@pytest.mark.slow
def test_a_worker_killed_at_random_points_neither_loses_nor_repeats_a_reminder(
    db_url, smtp_receiver, webhook_receiver
):
    began = time.monotonic()
    keys = queue_rows(db_url, 150, SystemClock().now())
    chance = random.Random(os.environ.get("REMINDER_CRASH_SEED", str(time.time_ns())))
    kills = 0
    for _ in range(3):
        # Kill after a random number of deliveries by this worker: always mid-batch.
        before = _delivered(smtp_receiver, webhook_receiver)
        target = before + chance.randint(1, 40)
        worker = _worker(db_url, smtp_receiver, webhook_receiver)
        while worker.poll() is None and _delivered(smtp_receiver, webhook_receiver) < target:
            time.sleep(0.002)
        time.sleep(chance.uniform(0, 0.05))
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            kills += 1
        worker.wait()
    runs = 0
    for runs in range(6):  # noqa: B007
        if not _unfinished(db_url):
            break
        time.sleep(LEASE_SECONDS + 0.2)  # claims of killed workers run out
        worker = _worker(db_url, smtp_receiver, webhook_receiver)
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors.decode()
    received = smtp_receiver.deliveries.counts() + webhook_receiver.deliveries.counts()
    duplicates = sum(n - 1 for n in received.values())
    print(
        f"\n{kills} workers killed mid-batch, {runs} restarts to finish, {len(keys)} reminders, "
        f"{duplicates} duplicates, {time.monotonic() - began:.1f} s"
    )
    assert set(received) == set(keys)
    # Each kill can catch one message per sending thread between "accepted" and "marked sent".
    assert duplicates <= kills * SENDERS
    assert max(received.values()) <= 1 + kills
    assert _unfinished(db_url) == 0
    with unit_of_work(get_engine(db_url), "tester") as unit:
        statuses = set(unit.session.exec(select(Reminder.status)))
    assert statuses == {"sent"}
