"""Claiming due reminders and sending them, safely with any number of workers.

A claim is one atomic statement that moves due rows from ``pending`` (or from ``claimed`` under a
lease that ran out: the worker died) to ``claimed`` by this worker until ``now + lease``. On
PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``, so concurrent workers take
disjoint batches without waiting; on SQLite the statement is an ``UPDATE ... RETURNING`` inside
``BEGIN IMMEDIATE``, which takes the write lock before reading, so two workers cannot pick the
same rows. The same statement expires rows past their grace and fails rows whose lease ran out
too often, so the outbox, not the scheduler's misfire rules, decides what is sent.

A row is marked ``sent`` only after the channel accepted the message, one row at a time, and
only if this worker still holds the claim. A crash between the channel's acceptance and that mark
is the one window left: the claim's lease runs out and another worker sends the message again,
with the same idempotency key.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, event, literal, select, update
from sqlmodel import col, create_engine

from scheduler.channels import ChannelFailure, Message, PermanentFailure
from scheduler.channels.registry import ChannelFactory, ChannelSet
from scheduler.clock import Clock
from scheduler.db import normalise_url
from scheduler.models import Reminder, Subject
from scheduler.models.columns import UtcDateTime
from scheduler.settings import Settings

log = logging.getLogger("scheduler.reminders")

_LEASE_LOST = "the claim ran out {n} times (worker stopped while sending?)"


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    kind: str
    subject_id: int | None
    channel: str
    address: str
    idempotency_key: str
    title: str
    body: str
    due_at: datetime
    expires_at: datetime
    attempts: int
    claimed_until: datetime | None


def _outbox_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "foreign_keys=ON",
        "busy_timeout=10000",
        "journal_mode=WAL",
        "synchronous=NORMAL",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@lru_cache(maxsize=8)
def outbox_engine(url: str) -> Engine:
    """The dispatcher's own engine: its commits are durable once the database has them, without
    waiting for the disk (SQLite ``synchronous=NORMAL`` in WAL mode, PostgreSQL
    ``synchronous_commit=off``). A killed worker loses nothing; a power cut of the database
    host may forget the last marks, and those reminders are sent again with the same key.
    Other connections of the application keep full durability."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _outbox_pragmas)
        return engine
    return create_engine(
        url, pool_pre_ping=True, connect_args={"options": "-c synchronous_commit=off"}
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Exponential: base, 2 x base, 4 x base ... capped."""
    seconds = settings.reminder_backoff_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.reminder_backoff_max_seconds))


def _claim_statement(worker: str, now: datetime, limit: int, settings: Settings, pg: bool):  # noqa: ANN202
    table = Reminder.__table__.c  # type: ignore[attr-defined]
    due = (
        select(table.id)
        .where(
            ((table.status == "pending") & (table.next_attempt_at <= now))
            | ((table.status == "claimed") & (table.claimed_until <= now))
        )
        .order_by(table.next_attempt_at, table.id)
        .limit(limit)
    )
    if pg:
        due = due.with_for_update(skip_locked=True)
    expired = table.expires_at <= now
    worn_out = and_(table.status == "claimed", table.attempts >= settings.reminder_max_attempts)
    claiming = ~expired & ~worn_out
    lease = literal(now + timedelta(seconds=settings.reminder_lease_seconds), UtcDateTime())
    return (
        update(Reminder)
        .where(col(Reminder.id).in_(due.scalar_subquery()))
        .values(
            status=case((expired, "expired"), (worn_out, "failed"), else_="claimed"),
            attempts=case((claiming, table.attempts + 1), else_=table.attempts),
            claimed_by=case((claiming, worker), else_=None),
            claimed_until=case((claiming, lease), else_=None),
            last_error=case(
                (worn_out & ~expired, _LEASE_LOST.format(n=settings.reminder_max_attempts)),
                else_=table.last_error,
            ),
            updated_at=now,
        )
        .returning(
            table.id,
            table.status,
            table.kind,
            table.subject_id,
            table.channel,
            table.address,
            table.idempotency_key,
            table.title,
            table.body,
            table.due_at,
            table.expires_at,
            table.attempts,
            table.claimed_until,
        )
    )


def claim(
    engine: Engine, worker: str, now: datetime, limit: int, settings: Settings
) -> tuple[list[Claimed], Counter[str]]:
    """Claim up to ``limit`` due rows; also returns how many were expired or failed instead."""
    pg = engine.dialect.name == "postgresql"
    statement = _claim_statement(worker, now, limit, settings, pg)
    if pg:
        with engine.begin() as connection:
            rows = connection.execute(statement).all()
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                rows = connection.execute(statement).all()
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
    outcome: Counter[str] = Counter()
    claimed: list[Claimed] = []
    for row in rows:
        if row.status != "claimed":
            outcome[row.status] += 1
            continue
        claimed.append(
            Claimed(
                id=row.id,
                kind=row.kind,
                subject_id=row.subject_id,
                channel=row.channel,
                address=row.address,
                idempotency_key=row.idempotency_key,
                title=row.title,
                body=row.body,
                due_at=row.due_at,
                expires_at=row.expires_at,
                attempts=row.attempts,
                claimed_until=row.claimed_until,
            )
        )
    claimed.sort(key=lambda c: (c.due_at, c.id))
    return claimed, outcome


def _mine(worker: str, reminder_id: int):  # noqa: ANN202
    return update(Reminder).where(
        col(Reminder.id) == reminder_id,
        col(Reminder.status) == "claimed",
        col(Reminder.claimed_by) == worker,
    )


def _write(engine: Engine, statement: object) -> int:
    with engine.begin() as connection:
        return _execute(connection, statement)


def _execute(connection: Connection, statement: object) -> int:
    result = connection.execute(statement)  # type: ignore[call-overload]
    return int(result.rowcount)


def mark_sent(engine: Engine, worker: str, reminder_id: int, now: datetime) -> bool:
    """False when this worker no longer held the claim (its lease ran out and it was taken)."""
    statement = _mine(worker, reminder_id).values(
        status="sent", sent_at=now, claimed_by=None, claimed_until=None, updated_at=now
    )
    return _write(engine, statement) == 1


def mark_failed_attempt(
    engine: Engine,
    worker: str,
    item: Claimed,
    error: ChannelFailure | Exception,
    now: datetime,
    settings: Settings,
) -> str:
    """Schedule the retry with backoff, or give up; returns the new status."""
    text = f"{type(error).__name__}: {error}"[:500]
    retry_at = now + backoff(settings, item.attempts)
    if isinstance(error, PermanentFailure) or item.attempts >= settings.reminder_max_attempts:
        status = "failed"
    elif retry_at >= item.expires_at:
        status = "expired"
    else:
        status = "pending"
    _write(
        engine,
        _mine(worker, item.id).values(
            status=status,
            next_attempt_at=retry_at,
            claimed_by=None,
            claimed_until=None,
            last_error=text,
            updated_at=now,
        ),
    )
    return status


def release(engine: Engine, worker: str, items: list[Claimed], now: datetime) -> None:
    """Hand back claims this worker will not get to before its lease ends (no attempt used)."""
    for item in items:
        _write(
            engine,
            _mine(worker, item.id).values(
                status="pending",
                attempts=Reminder.attempts - 1,
                claimed_by=None,
                claimed_until=None,
                updated_at=now,
            ),
        )


def _subject_codes(engine: Engine, items: list[Claimed]) -> dict[int, str]:
    ids = {i.subject_id for i in items if i.subject_id is not None}
    if not ids:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(
            select(col(Subject.id), col(Subject.code)).where(col(Subject.id).in_(ids))
        )
        return {row[0]: row[1] for row in rows}


class Dispatcher:
    """Sends every due reminder with ``settings.reminder_senders`` threads, each claiming its own
    batches and keeping its own channel connections open between runs."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        clock: Clock,
        channels: dict[str, ChannelFactory],
        *,
        worker: str | None = None,
        senders: int | None = None,
    ) -> None:
        self.engine = outbox_engine(normalise_url(engine.url.render_as_string(hide_password=False)))
        self.settings, self.clock = settings, clock
        self.worker = worker or worker_name()
        self._senders = senders or settings.reminder_senders
        self._channel_sets: queue.Queue[ChannelSet] = queue.Queue()
        for _ in range(self._senders):
            self._channel_sets.put(ChannelSet(channels))
        self._pool = ThreadPoolExecutor(self._senders, thread_name_prefix="reminder-sender")

    def run_once(self, *, stop: Callable[[], bool] | None = None) -> Counter[str]:
        """Send until nothing is due; returns counts by outcome (sent, pending, failed ...)."""
        futures = [
            self._pool.submit(self._drain, f"{self.worker}/{n}", stop) for n in range(self._senders)
        ]
        total: Counter[str] = Counter()
        for future in futures:
            total.update(future.result())
        if total:
            log.info("reminders dispatched: %s", dict(total))
        return total

    def _drain(self, worker: str, stop: Callable[[], bool] | None) -> Counter[str]:
        channels = self._channel_sets.get()
        outcome: Counter[str] = Counter()
        try:
            while stop is None or not stop():
                batch, closed = claim(
                    self.engine,
                    worker,
                    self.clock.now(),
                    self.settings.reminder_batch_size,
                    self.settings,
                )
                outcome.update(closed)
                if not batch:
                    break
                outcome.update(self._send_batch(worker, channels, batch))
        finally:
            self._channel_sets.put(channels)
        return outcome

    def _send_batch(self, worker: str, channels: ChannelSet, batch: list[Claimed]) -> Counter[str]:
        outcome: Counter[str] = Counter()
        codes = _subject_codes(self.engine, batch)
        margin = timedelta(seconds=self.settings.smtp_timeout_seconds)
        for index, item in enumerate(batch):
            now = self.clock.now()
            if item.claimed_until is not None and now + margin >= item.claimed_until:
                release(self.engine, worker, batch[index:], now)
                outcome["released"] += len(batch) - index
                break
            if now >= item.expires_at:
                statement = _mine(worker, item.id).values(
                    status="expired", claimed_by=None, claimed_until=None, updated_at=now
                )
                _write(self.engine, statement)
                outcome["expired"] += 1
                continue
            message = Message(
                idempotency_key=item.idempotency_key,
                kind=item.kind,
                to=item.address,
                title=item.title,
                body=item.body,
                due_at=item.due_at,
                subject_code=codes.get(item.subject_id or 0),
            )
            try:
                channels.send(item.channel, message)
            except Exception as exc:  # any failure of a channel is retried or given up on
                status = mark_failed_attempt(
                    self.engine, worker, item, exc, self.clock.now(), self.settings
                )
                log.warning("reminder %s not sent (%s): %s", item.idempotency_key, status, exc)
                outcome[status] += 1
                continue
            if mark_sent(self.engine, worker, item.id, self.clock.now()):
                outcome["sent"] += 1
            else:
                log.warning("reminder %s sent after its claim ran out", item.idempotency_key)
                outcome["sent_late_claim"] += 1
        return outcome

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        while not self._channel_sets.empty():
            self._channel_sets.get().close()
