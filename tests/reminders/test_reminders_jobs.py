"""APScheduler drives the clock in `dosing serve` and in `dosing worker`, and every process may
start its own scheduler: the outbox, not the schedulers, decides what is sent, once."""

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger
from fastapi.testclient import TestClient
from reminder_testkit import SECRET, SteppedClock, queue_rows, start_worker
from sqlmodel import func, select

from scheduler.app.cli import main
from scheduler.app.web import create_app
from scheduler.clock import FixedClock, SystemClock
from scheduler.db import get_engine
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.unit import unit_of_work
from scheduler.models import Reminder, Site
from scheduler.reminders.jobs import ReminderJobs, attach_to_app
from scheduler.reminders.outbox import set_preference
from scheduler.settings import get_settings
from scheduler.subjects.enrolment import enroll

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _wait_for(condition, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _received(*receivers):
    total = receivers[0].deliveries.counts()
    for receiver in receivers[1:]:
        total += receiver.deliveries.counts()
    return total


def _unsent(url):
    with unit_of_work(get_engine(url), "tester") as unit:
        return unit.session.exec(
            select(func.count()).where(Reminder.status.in_(("pending", "claimed")))
        ).one()


@pytest.fixture
def site(db_url, settings):
    with unit_of_work(get_engine(db_url), "setup") as unit:
        ensure_default_site(unit, settings)


@pytest.fixture
def job_settings(reminder_settings, site):
    """Quick polls, and the ZJU1 digests due at 11:00 local (03:00 UTC), an hour before NOW."""
    return reminder_settings.model_copy(
        update={
            "reminder_poll_seconds": 0.2,
            "reminder_batch_size": 10,
            "digest_time": clock_time(11, 0),
            "nurse_digest_to": {"ZJU1": ["nurses@example.org"]},
            "pharmacy_digest_to": {"ZJU1": ["pharmacy@example.org"]},
        }
    )


def test_the_defaults_of_apscheduler_decide_nothing(job_settings, smtp_receiver):
    """On the running scheduler: every job is kept in memory (nothing pickled, nothing dropped
    when it cannot be restored), still runs hours late, one run at a time; and a reminder that
    fell due three hours ago, while no scheduler ran (far beyond APScheduler's own 1-second
    misfire grace), is sent by the first poll: its row decides, not the scheduler."""
    [overdue] = queue_rows(
        job_settings.database_url, 1, NOW, late=timedelta(hours=3), channels=("email",)
    )
    jobs = ReminderJobs(get_engine(job_settings.database_url), job_settings, FixedClock(NOW))
    jobs.start()
    try:
        running = jobs.scheduler.get_jobs()
        assert sorted(job.id for job in running) == ["digests", "dispatch", "refresh"]
        for job in running:
            assert job.misfire_grace_time == 6 * 3600, job.id
            assert job.coalesce is True and job.max_instances == 1, job.id
            assert isinstance(job.trigger, IntervalTrigger), job.id
            assert job.trigger.interval == timedelta(seconds=0.2), job.id
        stores = jobs.scheduler._jobstores
        assert list(stores) == ["default"]
        assert type(stores["default"]) is MemoryJobStore
        assert _wait_for(lambda: overdue in smtp_receiver.deliveries.keys, 20)
    finally:
        jobs.stop()
    assert smtp_receiver.deliveries.counts()[overdue] == 1
    with unit_of_work(get_engine(job_settings.database_url), "tester") as unit:
        row = unit.session.exec(select(Reminder).where(Reminder.idempotency_key == overdue)).one()
    assert (row.status, row.sent_at) == ("sent", NOW)


def test_each_job_runs_and_logs_under_its_own_name(job_settings, caplog, monkeypatch):
    """APScheduler names a job after its function's qualified name: a wrapper would make every
    line read "_logged.<locals>.run"."""

    def broken(*args, **kwargs):
        raise RuntimeError("digest store unavailable")

    monkeypatch.setattr("scheduler.reminders.jobs.queue_digests", broken)
    caplog.set_level(logging.INFO, logger="apscheduler")
    caplog.set_level(logging.INFO, logger="scheduler.reminders.jobs")
    jobs = ReminderJobs(get_engine(job_settings.database_url), job_settings, FixedClock(NOW))
    jobs.start()
    try:
        assert {(job.id, job.name) for job in jobs.scheduler.get_jobs()} == {
            ("dispatch", "dispatch"),
            ("digests", "digests"),
            ("refresh", "refresh"),
        }

        def ran() -> set[str]:
            found = re.findall(r'Running job "(\w+) \(trigger', caplog.text)
            return set(found) & {"dispatch", "digests", "refresh"}

        assert _wait_for(lambda: len(ran()) == 3, 20), caplog.text
    finally:
        jobs.stop()
    assert "<locals>" not in caplog.text and "_named" not in caplog.text
    failures = [r for r in caplog.records if r.name == "scheduler.reminders.jobs" and r.exc_info]
    assert failures and {r.getMessage() for r in failures} == {"job digests failed"}


def test_the_refresh_job_derives_with_the_settings_of_its_worker(job_settings, units, monkeypatch):
    """The daily re-derivation runs with the worker's settings (here a 40-day horizon), not
    the environment's (a 2-day one)."""
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1")
        set_preference(unit, "S-001", opted_in=True, channel="email", address="p@example.org")
    monkeypatch.setenv("DOSING_REMINDER_HORIZON_DAYS", "2")
    get_settings.cache_clear()
    settings = job_settings.model_copy(update={"reminder_horizon_days": 40})
    jobs = ReminderJobs(get_engine(settings.database_url), settings, FixedClock(NOW))
    try:
        jobs.refresh()
    finally:
        jobs.stop()
        get_settings.cache_clear()
    with units() as unit:
        pending = unit.session.exec(
            select(Reminder.item_key).where(Reminder.status == "pending")
        ).all()
    assert "C2D14" in pending  # 5 April: within 40 days (not 28, not 2)
    assert "C3D1" not in pending  # the dose on 13 April and the visit reminder on 12 April


def test_the_refresh_job_rederives_each_site_once_its_new_local_day_has_begun(
    job_settings, units, monkeypatch
):
    """ZJU1 is in Shanghai (UTC+8), NYC1, added after the first run, in New York (UTC-5 on
    2 March 2026). Each is re-derived on the first run that sees it, then once a day after
    00:15 local."""
    refreshed = []
    monkeypatch.setattr(
        "scheduler.reminders.jobs.refresh_moving_plans",
        lambda engine, settings, clock, site_id: refreshed.append(site_id),
    )
    clock = SteppedClock(NOW)
    jobs = ReminderJobs(get_engine(job_settings.database_url), job_settings, clock)
    seen = []
    try:
        for at, add_site in (
            (NOW, False),  # 12:00 in Shanghai
            (NOW + timedelta(minutes=1), True),  # NYC1 added: 23:01 on 1 March there
            (datetime(2026, 3, 2, 5, 14, tzinfo=UTC), False),  # 00:14 on 2 March in New York
            (datetime(2026, 3, 2, 5, 15, tzinfo=UTC), False),  # 00:15
            (datetime(2026, 3, 2, 12, 0, tzinfo=UTC), False),
            (datetime(2026, 3, 2, 16, 14, tzinfo=UTC), False),  # 00:14 on 3 March in Shanghai
            (datetime(2026, 3, 2, 16, 15, tzinfo=UTC), False),  # 00:15
            (datetime(2026, 3, 2, 23, 0, tzinfo=UTC), False),
        ):
            if add_site:
                with units() as unit:
                    ensure_default_site(
                        unit,
                        job_settings.model_copy(
                            update={
                                "default_site_code": "NYC1",
                                "default_site_time_zone": "America/New_York",
                            }
                        ),
                    )
            clock.instant = at
            refreshed.clear()
            jobs.refresh()
            seen.append(sorted(refreshed))
    finally:
        jobs.stop()
    with units() as unit:
        ids = dict(unit.session.exec(select(Site.code, Site.id)).all())
    zju1, nyc1 = ids["ZJU1"], ids["NYC1"]
    assert seen == [[zju1], [nyc1], [], [nyc1], [], [], [zju1], []]


def test_two_schedulers_in_one_database_send_each_reminder_and_digest_once(
    job_settings, smtp_receiver, webhook_receiver
):
    """As when each web worker process starts its own APScheduler."""
    keys = queue_rows(job_settings.database_url, 200, NOW)
    engine = get_engine(job_settings.database_url)
    schedulers = [ReminderJobs(engine, job_settings, FixedClock(NOW)) for _ in range(2)]
    for jobs in schedulers:
        jobs.start()
    try:
        assert _wait_for(lambda: len(_received(smtp_receiver, webhook_receiver)) >= 202)
        time.sleep(1.0)  # a few more polls of both, to catch a late duplicate
    finally:
        for jobs in schedulers:
            jobs.stop()
    received = _received(smtp_receiver, webhook_receiver)
    digests = {k: n for k, n in received.items() if "digest" in k}
    assert {k: received[k] for k in keys} == dict.fromkeys(keys, 1)
    assert sorted(k.split(".")[0] for k in digests) == ["nurse_digest", "pharmacy_digest"]
    assert set(digests.values()) == {1}
    assert len(received) == 202
    assert _unsent(job_settings.database_url) == 0


def test_dosing_serve_runs_the_reminder_jobs_for_as_long_as_it_serves(
    job_settings, smtp_receiver, webhook_receiver, monkeypatch
):
    """`dosing serve` attaches the scheduler to the web application's lifespan."""
    keys = queue_rows(job_settings.database_url, 20, SystemClock().now())
    for name, value in {
        "DOSING_SMTP_PORT": str(smtp_receiver.port),
        "DOSING_WEBHOOK_URL": webhook_receiver.url,
        "DOSING_WEBHOOK_SECRET": SECRET,
        "DOSING_REMINDER_POLL_SECONDS": "0.2",
    }.items():
        monkeypatch.setenv(name, value)
    served = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: served.append(app))
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["serve", "--db", job_settings.database_url])
            raise SystemExit(0)
    finally:
        get_settings.cache_clear()
    assert (exit_info.value.code or 0) == 0
    [app] = served
    with TestClient(app) as client:
        jobs = app.state.reminder_jobs
        assert jobs.scheduler.running
        assert client.get("/login").status_code == 200
        assert _wait_for(lambda: len(_received(smtp_receiver, webhook_receiver)) >= 20)
    assert not jobs.scheduler.running
    assert _received(smtp_receiver, webhook_receiver) == dict.fromkeys(keys, 1)


def test_a_web_app_without_the_scheduler_sends_nothing(job_settings, smtp_receiver):
    """The jobs run only when attached (DOSING_SCHEDULER_ENABLED=false leaves them to
    `dosing worker`)."""
    keys = queue_rows(job_settings.database_url, 3, NOW, channels=("email",))
    app = create_app(job_settings, FixedClock(NOW))
    with TestClient(app):
        time.sleep(0.6)
    assert smtp_receiver.deliveries.keys == []
    attach_to_app(app)
    with TestClient(app):
        assert _wait_for(lambda: set(keys) <= set(smtp_receiver.deliveries.keys))


@pytest.mark.slow
def test_two_worker_processes_each_with_its_own_scheduler_send_each_reminder_once(
    db_url, site, smtp_receiver, webhook_receiver
):
    workers = [
        start_worker(
            db_url,
            smtp_receiver.port,
            webhook_receiver.url,
            REMINDER_POLL_SECONDS="0.2",
            REMINDER_BATCH_SIZE="10",
            REMINDER_SENDERS="2",
        )
        for _ in range(2)
    ]
    try:
        time.sleep(1.0)  # both schedulers up before the batch appears
        keys = queue_rows(db_url, 300, SystemClock().now() + timedelta(seconds=1))
        assert _wait_for(lambda: len(_received(smtp_receiver, webhook_receiver)) >= 300)
        time.sleep(1.0)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        errors = [worker.communicate(timeout=60)[1].decode() for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], errors
    assert _received(smtp_receiver, webhook_receiver) == dict.fromkeys(keys, 1)
    assert _unsent(db_url) == 0
    assert any("reminders dispatched" in e for e in errors), errors


@pytest.mark.slow
def test_dosing_serve_with_two_web_workers_runs_a_scheduler_in_each_and_sends_once(
    db_url, site, smtp_receiver, webhook_receiver, tmp_path
):
    log = tmp_path / "serve.log"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(
        os.environ,
        DOSING_SMTP_PORT=str(smtp_receiver.port),
        DOSING_WEBHOOK_URL=webhook_receiver.url,
        DOSING_WEBHOOK_SECRET=SECRET,
        DOSING_REMINDER_POLL_SECONDS="0.2",
        DOSING_REMINDER_BATCH_SIZE="10",
    )
    command = [sys.executable, "-m", "scheduler", "serve", "--workers", "2", "--port", str(port)]
    with log.open("wb") as output:
        server = subprocess.Popen([*command, "--db", db_url], env=env, stderr=output)
    try:
        started = re.compile(r"reminder jobs started \(([^)]+), ")
        assert _wait_for(lambda: len(started.findall(log.read_text())) == 2), log.read_text()
        workers = {name.split(":")[1] for name in started.findall(log.read_text())}
        assert len(workers) == 2  # two processes, each with its own APScheduler
        keys = queue_rows(db_url, 300, SystemClock().now())
        assert _wait_for(lambda: len(_received(smtp_receiver, webhook_receiver)) >= 300)
        time.sleep(1.0)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert _received(smtp_receiver, webhook_receiver) == dict.fromkeys(keys, 1)
    assert _unsent(db_url) == 0
