"""Reminder fixtures: real receivers on loopback and settings pointing at them (``db_url``
is the root one: a copy of the session's migrated SQLite file, or the worker's PostgreSQL
database emptied)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from reminder_testkit import SECRET, SmtpReceiver, WebhookReceiver

from scheduler.settings import Settings


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
