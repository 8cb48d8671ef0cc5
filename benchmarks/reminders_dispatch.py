"""Dispatch throughput of the reminder outbox: N due reminders, half to a local SMTP server
(aiosmtpd), half to an HTTP webhook receiver that checks each HMAC signature.

The receivers run in their own process. First a bare client hammers each receiver (same number
of parallel connections as the dispatcher's senders) to measure the floor: the receiver's own
maximum rate. Then the outbox is filled and dispatched, and the receivers confirm that every
reminder arrived exactly once.

    .venv/bin/python benchmarks/reminders_dispatch.py [--count 100000] [--db URL] [--senders 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reminders"))

from reminder_testkit import SECRET, SmtpReceiver, WebhookReceiver, queue_rows

from scheduler.channels import Message
from scheduler.channels.registry import factories
from scheduler.channels.webhook import WebhookChannel
from scheduler.clock import SystemClock
from scheduler.db import get_engine
from scheduler.migrate import upgrade
from scheduler.services.reminder_dispatch import Dispatcher
from scheduler.settings import Settings


def serve_receivers(ports: multiprocessing.Queue, stop, counts: multiprocessing.Queue) -> None:
    with SmtpReceiver() as smtp, WebhookReceiver() as hook:
        ports.put((smtp.port, hook.url))
        stop.wait()
        keys = smtp.deliveries.keys + hook.deliveries.keys
        counts.put((len(keys), len(set(keys)), hook.bad_signatures))


def hammer(threads: int, per_thread: int, send_one) -> float:
    """Messages per second of ``threads`` bare clients each sending ``per_thread``."""

    def run(n: int) -> None:
        for i in range(per_thread):
            send_one(n, i)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return threads * per_thread / (time.perf_counter() - start)


def floors(smtp_port: int, url: str, threads: int, per_thread: int) -> tuple[float, float]:
    connections = [smtplib.SMTP("127.0.0.1", smtp_port) for _ in range(threads)]

    def smtp_one(n: int, i: int) -> None:
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = "b@dosing.invalid", "p@example.org", "x"
        email["Message-ID"] = f"<floor.{n}.{i}@dosing.invalid>"
        email["X-Dosing-Idempotency-Key"] = f"floor.{n}.{i}"
        email.set_content("floor")
        connections[n].send_message(email)

    hooks = [WebhookChannel(url=url, secret=SECRET) for _ in range(threads)]
    now = datetime.now(UTC)

    def hook_one(n: int, i: int) -> None:
        hooks[n].send(
            Message(
                idempotency_key=f"floor.h{n}.{i}",
                kind="dose",
                to="+1",
                title="x",
                body="floor",
                due_at=now,
            )
        )

    smtp_rate = hammer(threads, per_thread, smtp_one)
    hook_rate = hammer(threads, per_thread, hook_one)
    for c in connections:
        c.quit()
    for h in hooks:
        h.close()
    return smtp_rate, hook_rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--floor-messages", type=int, default=2000)
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    upgrade(url)
    ports: multiprocessing.Queue = multiprocessing.Queue()
    counts: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    receivers = multiprocessing.Process(target=serve_receivers, args=(ports, stop, counts))
    receivers.start()
    smtp_port, hook_url = ports.get(timeout=30)
    per_thread = max(args.floor_messages // args.senders, 1)
    smtp_floor, hook_floor = floors(smtp_port, hook_url, args.senders, per_thread)
    print(
        f"floor: SMTP receiver {smtp_floor:,.0f} msg/s, webhook receiver {hook_floor:,.0f} req/s "
        f"({args.senders} bare clients)"
    )
    combined = 2 / (1 / smtp_floor + 1 / hook_floor)
    print(f"floor for a half/half mix: {combined:,.0f} msg/s")

    clock = SystemClock()
    start = time.perf_counter()
    queue_rows(url, args.count, clock.now(), prefix="B")
    print(f"queued {args.count:,} due reminders in {time.perf_counter() - start:.1f} s")
    settings = Settings(
        database_url=url,
        smtp_port=smtp_port,
        webhook_url=hook_url,
        webhook_secret=SECRET,
        reminder_senders=args.senders,
        reminder_batch_size=args.batch,
    )
    dispatcher = Dispatcher(get_engine(url), settings, clock, factories(settings, clock))
    start = time.perf_counter()
    outcome = dispatcher.run_once()
    elapsed = time.perf_counter() - start
    dispatcher.close()
    stop.set()
    received, unique, bad = counts.get(timeout=30)
    receivers.join()
    floor_keys = 2 * per_thread * args.senders
    print(
        f"dispatched {dict(outcome)} in {elapsed:.1f} s: {args.count / elapsed:,.0f} msg/s "
        f"({'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}, {args.senders} senders, "
        f"batches of {args.batch})"
    )
    print(
        f"receivers: {received - floor_keys:,} reminders received, "
        f"{received - unique:,} duplicates, {bad} bad signatures"
    )


if __name__ == "__main__":
    main()
