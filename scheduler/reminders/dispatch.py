"""Claiming due reminders and sending them, safely with any number of workers.

A claim is one atomic statement that moves due rows from ``pending`` (or from ``claimed`` under a
lease that ran out: the worker died) to ``claimed`` by this worker until ``now + lease``. On
PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``, so concurrent workers take
disjoint batches without waiting; on SQLite the statement is an ``UPDATE ... RETURNING`` inside
``BEGIN IMMEDIATE``, which takes the write lock before reading, so two workers cannot pick the
same rows. The same statement expires rows past their grace and fails rows whose lease ran out
too often, so the outbox, not the scheduler's misfire rules, decides what is sent.

Just before each send the worker checks that the row is still claimed by it (a hold or an
opt-out committed since the claim cancels the row) and takes its current text. A row is marked
``sent`` only after the channel accepted the message, one row at a time, each mark its own
committed statement. A crash between the channel's acceptance and that mark is the one window
left: the claim's lease runs out and another worker sends the message again, with the same
idempotency key.

Each sending thread keeps one connection to the database (autocommit: every mark is committed
by the statement itself) and the statements it runs per message are built once, at import.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, and_, bindparam, case, event, literal, select, update
from sqlalchemy.sql.dml import ReturningUpdate
from sqlmodel import col, create_engine

from scheduler.clock import Clock
from scheduler.db import normalise_url
from scheduler.models import Reminder, Subject
from scheduler.models.columns import UtcDateTime
from scheduler.reminders.channels import Message, PermanentFailure
from scheduler.reminders.channels.registry import ChannelFactory, ChannelSet
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


def _claim_statement(
    worker: str, now: datetime, limit: int, settings: Settings, pg: bool
) -> ReturningUpdate[Any]:
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


def _claimed(rows: Sequence[Any]) -> tuple[list[Claimed], Counter[str]]:
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


_T = Reminder.__table__.c  # type: ignore[attr-defined]
_NOW = bindparam("now", type_=UtcDateTime())
_MINE = and_(
    _T.id == bindparam("rid"), _T.status == "claimed", _T.claimed_by == bindparam("worker")
)
_FREED = {"claimed_by": None, "claimed_until": None, "updated_at": _NOW}
# Built once: each sender runs these for every message, so they must cost one cached execution.
_STILL_MINE = select(_T.title, _T.body).where(_MINE)
_MARK_SENT = update(Reminder).where(_MINE).values(status="sent", sent_at=_NOW, **_FREED)
_CANCELLED_MINE = and_(
    _T.id == bindparam("rid"), _T.status == "cancelled", _T.claimed_by == bindparam("worker")
)
_MARK_SENT_ANYWAY = (
    update(Reminder)
    .where(_CANCELLED_MINE)
    .values(
        status="sent",
        sent_at=_NOW,
        last_error="cancelled while it was being sent: it went out",
        **_FREED,
    )
)
_MARK_EXPIRED = update(Reminder).where(_MINE).values(status="expired", **_FREED)
_MARK_ATTEMPT = (
    update(Reminder)
    .where(_MINE)
    .values(
        status=bindparam("new_status"),
        next_attempt_at=bindparam("retry_at", type_=UtcDateTime()),
        last_error=bindparam("error"),
        **_FREED,
    )
)
_RELEASE = (
    update(Reminder).where(_MINE).values(status="pending", attempts=_T.attempts - 1, **_FREED)
)


class Outbox:
    """One sender's connection to the outbox, kept open across batches, in autocommit mode:
    every mark is one statement, and so its own transaction, committed at once."""

    def __init__(self, engine: Engine, worker: str) -> None:
        self.worker = worker
        self._pg = engine.dialect.name == "postgresql"
        self._connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def close(self) -> None:
        self._connection.close()

    def claim(
        self, now: datetime, limit: int, settings: Settings
    ) -> tuple[list[Claimed], Counter[str]]:
        """Claim up to ``limit`` due rows; also counts the rows expired or failed instead."""
        statement = _claim_statement(self.worker, now, limit, settings, self._pg)
        connection = self._connection
        if self._pg:
            rows = connection.execute(statement).all()  # one statement: atomic on its own
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                rows = connection.execute(statement).all()
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
        return _claimed(rows)

    def still_mine(self, item: Claimed) -> tuple[str, str] | None:
        """The row's title and body as they are now (a dose change may have rewritten them),
        or None when it was cancelled (a hold, an opt-out) or its claim was lost."""
        found = self._connection.execute(_STILL_MINE, {"rid": item.id, "worker": self.worker})
        row = found.first()
        return None if row is None else (row.title, row.body)

    def _mark(self, statement: Any, item: Claimed, now: datetime, **values: object) -> bool:
        params = {"rid": item.id, "worker": self.worker, "now": now, **values}
        return int(self._connection.execute(statement, params).rowcount) == 1

    def sent(self, item: Claimed, now: datetime) -> str:
        """Record that the channel accepted the message: "sent"; "sent_after_cancel" when a
        change cancelled the row while it was being sent (the row says it went out);
        "sent_late_claim" when this worker had lost the claim (another may send it again)."""
        if self._mark(_MARK_SENT, item, now):
            return "sent"
        if self._mark(_MARK_SENT_ANYWAY, item, now):
            return "sent_after_cancel"
        return "sent_late_claim"

    def expired(self, item: Claimed, now: datetime) -> None:
        self._mark(_MARK_EXPIRED, item, now)

    def failed_attempt(
        self, item: Claimed, error: Exception, now: datetime, settings: Settings
    ) -> str:
        """Schedule the retry with backoff, or give up; returns the new status."""
        retry_at = now + backoff(settings, item.attempts)
        if isinstance(error, PermanentFailure) or item.attempts >= settings.reminder_max_attempts:
            status = "failed"
        elif retry_at >= item.expires_at:
            status = "expired"
        else:
            status = "pending"
        text = f"{type(error).__name__}: {error}"[:500]
        self._mark(_MARK_ATTEMPT, item, now, new_status=status, retry_at=retry_at, error=text)
        return status

    def release(self, items: list[Claimed], now: datetime) -> None:
        """Hand back claims this worker will not get to before its lease ends (no attempt
        used)."""
        for item in items:
            self._mark(_RELEASE, item, now)

    def subject_codes(self, items: list[Claimed]) -> dict[int, str]:
        ids = {i.subject_id for i in items if i.subject_id is not None}
        if not ids:
            return {}
        rows = self._connection.execute(
            select(col(Subject.id), col(Subject.code)).where(col(Subject.id).in_(ids))
        )
        return {subject_id: code for subject_id, code in rows if subject_id is not None}


def claim(
    engine: Engine, worker: str, now: datetime, limit: int, settings: Settings
) -> tuple[list[Claimed], Counter[str]]:
    """Claim up to ``limit`` due rows for ``worker`` on a connection of its own."""
    outbox = Outbox(engine, worker)
    try:
        return outbox.claim(now, limit, settings)
    finally:
        outbox.close()


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
        outbox = Outbox(self.engine, worker)
        try:
            while stop is None or not stop():
                batch, closed = outbox.claim(
                    self.clock.now(), self.settings.reminder_batch_size, self.settings
                )
                outcome.update(closed)
                if not batch:
                    break
                outcome.update(self._send_batch(outbox, channels, batch, stop))
        finally:
            outbox.close()
            self._channel_sets.put(channels)
        return outcome

    def _send_batch(
        self,
        outbox: Outbox,
        channels: ChannelSet,
        batch: list[Claimed],
        stop: Callable[[], bool] | None = None,
    ) -> Counter[str]:
        outcome: Counter[str] = Counter()
        codes = outbox.subject_codes(batch)
        margin = timedelta(seconds=self.settings.smtp_timeout_seconds)
        for index, item in enumerate(batch):
            now = self.clock.now()
            # Stopping, or too near the end of the lease to finish a send: the rest goes back
            # at once rather than waiting for the lease to run out.
            late = item.claimed_until is not None and now + margin >= item.claimed_until
            if late or (stop is not None and stop()):
                outbox.release(batch[index:], now)
                outcome["released"] += len(batch) - index
                break
            if now >= item.expires_at:
                outbox.expired(item, now)
                outcome["expired"] += 1
                continue
            # A hold or an opt-out committed since the claim cancels the row: checked just
            # before sending, so only a change within one send's duration can come too late.
            current = outbox.still_mine(item)
            if current is None:
                outcome["withdrawn"] += 1
                continue
            message = Message(
                idempotency_key=item.idempotency_key,
                kind=item.kind,
                to=item.address,
                title=current[0],
                body=current[1],
                due_at=item.due_at,
                subject_code=codes.get(item.subject_id or 0),
            )
            try:
                channels.send(item.channel, message)
            except Exception as exc:  # any failure of a channel is retried or given up on
                status = outbox.failed_attempt(item, exc, self.clock.now(), self.settings)
                log.warning("reminder %s not sent (%s): %s", item.idempotency_key, status, exc)
                outcome[status] += 1
                continue
            marked = outbox.sent(item, self.clock.now())
            if marked != "sent":
                log.warning("reminder %s: %s", item.idempotency_key, marked.replace("_", " "))
            outcome[marked] += 1
        return outcome

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        while not self._channel_sets.empty():
            self._channel_sets.get().close()
