"""Worker processes killed with SIGKILL at random points, then restarted: every due reminder
arrives, and arrives once, but for the documented window between the channel accepting a message
and the worker marking it sent. A worker has one sending thread here, so a kill can leave at most
one message in that window: at most one duplicate per kill, each reminder at most twice.

Kills land at three kinds of moment, in random order and at random instants: while the worker
starts (importing, connecting, claiming, sending its first message), as soon as its first claim
is committed, and after a random number of its deliveries. Every kill happens before the first
lease can run out, so no claim of a killed worker is taken over by another worker that is then
killed too (which could send one message three times: two windows). Then the leases run out and
one worker, restarted, sends what the killed ones left.

Each duplicate must carry the key of its first delivery (a repeat under another key would pass
any receiver's duplicate check): the repeats under a distinct key are counted too, and must be 0.
The duplicates are counted and shown in the terminal summary ("reminder crash tests") and as the
test's recorded properties (JUnit XML). REMINDER_CRASH_SEED replays a run.
"""

import os
import random
import signal
import socket
import time

import pytest
from reminder_testkit import queue_rows, start_worker
from sqlalchemy import text
from sqlmodel import func, select

from scheduler.clock import SystemClock
from scheduler.db import get_engine
from scheduler.kernel.unit import unit_of_work
from scheduler.models import Reminder

ROWS = 240
LEASE_SECONDS = 10
KILL_PHASE_SECONDS = LEASE_SECONDS - 1
"""Every kill before any claim of a killed worker could run out."""
KINDS = ("starting", "claimed", "sending")


def _worker(db_url, smtp_receiver, webhook_receiver):
    return start_worker(
        db_url,
        smtp_receiver.port,
        webhook_receiver.url,
        "--once",
        REMINDER_LEASE_SECONDS=str(LEASE_SECONDS),
        SMTP_TIMEOUT_SECONDS="0.5",
        REMINDER_BATCH_SIZE="10",
        REMINDER_SENDERS="1",
    )


def _delivered(*receivers):
    return sum(len(r.deliveries.keys) for r in receivers)


def _claims_of(db_url, pid):
    """Rows claimed by the worker process ``pid`` (its name is host:pid:random/thread)."""
    with get_engine(db_url).connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM reminder WHERE status = 'claimed' AND claimed_by LIKE :p"),
            {"p": f"{socket.gethostname()}:{pid}:%"},
        ).scalar_one()


def _unfinished(db_url):
    with unit_of_work(get_engine(db_url), "tester") as unit:
        return unit.session.exec(
            select(func.count()).where(Reminder.status.in_(("pending", "claimed")))
        ).one()


def _kill_at(kind, worker, chance, deadline, db_url, receivers):
    """Wait for a moment of this ``kind`` (or the deadline), then SIGKILL; returns what the
    worker had delivered, or None when it finished first."""
    started, before = time.monotonic(), _delivered(*receivers)
    if kind == "starting":
        at = started + chance.uniform(0.2, 1.4)

        def reached():
            return time.monotonic() >= at or _delivered(*receivers) > before

    elif kind == "claimed":

        def reached():
            return _claims_of(db_url, worker.pid) > 0

    else:
        target = before + chance.randint(1, 25)

        def reached():
            return _delivered(*receivers) >= target

    while worker.poll() is None and not reached() and time.monotonic() < deadline:
        time.sleep(0.001)
    if kind == "sending":
        time.sleep(chance.uniform(0, 0.003))
    if worker.poll() is not None:
        return None
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    return _delivered(*receivers) - before


@pytest.mark.slow
def test_a_worker_killed_at_random_points_neither_loses_nor_repeats_a_reminder(
    db_url, smtp_receiver, webhook_receiver, record_property
):
    began = time.monotonic()
    receivers = (smtp_receiver, webhook_receiver)
    keys = queue_rows(db_url, ROWS, SystemClock().now())
    seed = os.environ.get("REMINDER_CRASH_SEED", str(time.time_ns()))
    chance = random.Random(seed)
    # Each kind once first (in random order), then random kinds while time allows.
    plan = [*chance.sample(KINDS, len(KINDS)), *chance.choices(KINDS, k=5)]
    kills: list[tuple[str, int]] = []
    deadline = time.monotonic() + KILL_PHASE_SECONDS
    for kind in plan:
        if time.monotonic() > deadline - 1.5:  # no time left for a worker to start
            break
        worker = _worker(db_url, *receivers)
        delivered = _kill_at(kind, worker, chance, deadline, db_url, receivers)
        if delivered is not None:
            kills.append((kind, delivered))
    last_kill = time.monotonic()
    assert {kind for kind, _ in kills} == set(KINDS), kills
    time.sleep(max(0.0, last_kill + LEASE_SECONDS + 0.3 - time.monotonic()))
    worker = _worker(db_url, *receivers)  # restarted: every claim of the killed ones ran out
    _, errors = worker.communicate(timeout=120)
    assert worker.returncode == 0, errors.decode()

    received = smtp_receiver.deliveries.counts() + webhook_receiver.deliveries.counts()
    duplicates = sum(n - 1 for n in received.values())
    # A repeat under another key would pass any receiver's duplicate check: there must be none.
    by_body: dict[str, set[str]] = {}
    for receiver in receivers:
        for body, seen in receiver.deliveries.keys_by_body().items():
            by_body.setdefault(body, set()).update(seen)
    rekeyed = sum(len(keys) - 1 for keys in by_body.values())
    by_kind = ", ".join(f"{sum(k == kind for k, _ in kills)} {kind}" for kind in KINDS)
    report = (
        f"{len(kills)} workers killed ({by_kind}), {len(keys)} reminders, "
        f"{duplicates} duplicate{'s' * (duplicates != 1)} ({rekeyed} under another key), "
        f"{time.monotonic() - began:.1f} s, seed {seed}"
    )
    record_property("kills", len(kills))
    record_property("duplicates", duplicates)
    record_property("duplicates_with_distinct_keys", rekeyed)
    record_property("reminder_report", report)
    assert set(received) == set(keys), report  # none lost
    assert max(received.values()) <= 2, report  # one window each, at most
    assert duplicates <= len(kills), report  # one sending thread: one window per kill
    assert rekeyed == 0, report  # every repeat carries its first key, so a receiver can drop it
    assert len(by_body) == len(keys), report
    assert _unfinished(db_url) == 0
    with unit_of_work(get_engine(db_url), "tester") as unit:
        statuses = set(unit.session.exec(select(Reminder.status)))
    assert statuses == {"sent"}
