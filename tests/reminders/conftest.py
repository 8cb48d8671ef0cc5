"""Reminder fixtures: real receivers on loopback and settings pointing at them.

``db_url`` is the root fixture's contract (a fresh migrated SQLite file, or the session's
PostgreSQL database emptied), but the SQLite file is copied from one migrated once per session:
migrating takes seconds, copying milliseconds, and these tests each need a fresh database.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from reminder_testkit import SECRET, SmtpReceiver, WebhookReceiver
from sqlalchemy import text

from scheduler.db import get_engine
from scheduler.migrate import upgrade
from scheduler.settings import Settings


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reminders") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    get_engine(url).dispose()
    return path


def _empty_postgres(url: str) -> None:
    with get_engine(url).begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, migrated_sqlite_file) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(migrated_sqlite_file, path)
        url = f"sqlite:///{path}"
        yield url
        get_engine(url).dispose()
        return
    url = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    yield url
    _empty_postgres(url)


@pytest.fixture
def quick_thread_switches() -> Iterator[None]:
    """The receivers share this process with the senders: with the default 5 ms GIL switch
    interval every SMTP round trip waits for a switch, and the tests crawl."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    yield
    sys.setswitchinterval(before)


@pytest.fixture
def smtp_receiver(quick_thread_switches) -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def reminder_settings(db_url, smtp_receiver, webhook_receiver) -> Settings:
    return Settings(
        database_url=db_url,
        user="tester",
        smtp_port=smtp_receiver.port,
        webhook_url=webhook_receiver.url,
        webhook_secret=SECRET,
        reminder_senders=2,
        reminder_batch_size=20,
        reminder_backoff_seconds=60,
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show what the crash tests counted (duplicates, kills) even on a passing, quiet run: the
    documented window's duplicates are a figure to watch, not only a bound to assert."""
    lines = [
        f"{report.nodeid}: {value}"
        for outcome in ("passed", "failed")
        for report in terminalreporter.getreports(outcome)
        for name, value in report.user_properties
        if name == "reminder_report"
    ]
    if lines:
        terminalreporter.section("reminder crash tests")
        for line in lines:
            terminalreporter.write_line(line)
