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
import http.client
import json
import multiprocessing
import os
import smtplib
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reminders"))

from reminder_testkit import SECRET, SmtpReceiver, WebhookReceiver, queue_rows

from scheduler.clock import SystemClock
from scheduler.db import get_engine
from scheduler.migrate import upgrade
from scheduler.reminders.channels.registry import factories
from scheduler.reminders.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from scheduler.reminders.dispatch import Dispatcher
from scheduler.settings import Settings


def serve_receivers(ports: multiprocessing.Queue, asks: multiprocessing.Queue) -> None:
    """The receivers' process: answers "cpu" with its CPU seconds so far, "stop" with the counts
    of what arrived."""
    with SmtpReceiver() as smtp, WebhookReceiver() as hook:
        ports.put((smtp.port, hook.url))
        while asks.get() == "cpu":
            ports.put(time.process_time())
        keys = smtp.deliveries.keys + hook.deliveries.keys
        ports.put((len(keys), len(set(keys)), hook.bad_signatures))


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


def _raw_email(key: str) -> bytes:
    return (
        "From: b@dosing.invalid\r\nTo: p@example.org\r\nSubject: Dose reminder\r\n"
        f"Message-ID: <{key}@dosing.invalid>\r\nX-Dosing-Idempotency-Key: {key}\r\n"
        "\r\nF000001, 2026-03-02: take your 12 mg dose due at 08:00.\r\n"
    ).encode()


def _hook_request(key: str, stamp: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"idempotency_key": key, "kind": "dose", "to": "+1", "text": "floor"})
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature(SECRET.encode(), stamp, body.encode()),
    }
    return body.encode(), headers


def _floor(mode: str, smtp_port: int, url: str, threads: int, per_thread: int) -> float:
    stamp, webhook = str(int(time.time())), urlsplit(url)
    smtps = [smtplib.SMTP("127.0.0.1", smtp_port) for _ in range(threads)]
    hooks = [http.client.HTTPConnection(webhook.hostname, webhook.port) for _ in range(threads)]
    ready = {
        (n, i): (
            _raw_email(f"floor.{mode}.s{n}.{i}"),
            _hook_request(f"floor.{mode}.h{n}.{i}", stamp),
        )
        for n in range(threads)
        for i in range(per_thread)
    }

    def one(n: int, i: int) -> None:
        email, (body, headers) = ready[(n, i)]
        if mode == "smtp" or (mode == "mixed" and i % 2 == 0):
            smtps[n].sendmail("b@dosing.invalid", ["p@example.org"], email)
            return
        hooks[n].request("POST", webhook.path, body=body, headers=headers)
        response = hooks[n].getresponse()
        response.read()
        assert response.status == 204, response.status

    rate = hammer(threads, per_thread, one)
    for c in smtps:
        c.quit()
    for h in hooks:
        h.close()
    return rate


def floors(smtp_port: int, url: str, threads: int, per_thread: int) -> dict[str, float]:
    """The receivers' own maximum rates: bare clients sending ready-made messages (raw SMTP
    bytes, pre-signed webhook requests) over kept-open connections, so that the client costs
    next to nothing. "mixed" alternates SMTP and webhook in each thread, as the outbox does."""
    return {
        mode: _floor(mode, smtp_port, url, threads, per_thread)
        for mode in ("smtp", "webhook", "mixed")
    }


class Receivers:
    """The receivers' process, asked for its CPU time and, at the end, for what arrived."""

    def __init__(self) -> None:
        self._answers: multiprocessing.Queue = multiprocessing.Queue()
        self._asks: multiprocessing.Queue = multiprocessing.Queue()
        self._process = multiprocessing.Process(
            target=serve_receivers, args=(self._answers, self._asks)
        )
        self._process.start()
        self.smtp_port, self.url = self._answers.get(timeout=30)

    def cpu(self) -> float:
        self._asks.put("cpu")
        return float(self._answers.get(timeout=30))

    def stop(self) -> tuple[int, int, int]:
        self._asks.put("stop")
        counts = self._answers.get(timeout=60)
        self._process.join()
        return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--floor-messages", type=int, default=4000)
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    upgrade(url)
    receivers = Receivers()
    per_thread = max(args.floor_messages // args.senders, 2)
    rates = floors(receivers.smtp_port, receivers.url, args.senders, per_thread)
    print(
        f"floor (the receivers' own maximum, {args.senders} bare clients): "
        f"SMTP {rates['smtp']:,.0f} msg/s, webhook {rates['webhook']:,.0f} req/s, "
        f"half/half {rates['mixed']:,.0f} msg/s"
        f" = {args.count / rates['mixed']:.0f} s for {args.count:,}"
    )

    clock = SystemClock()
    start = time.perf_counter()
    queue_rows(url, args.count, clock.now(), prefix="B")
    print(f"queued {args.count:,} due reminders in {time.perf_counter() - start:.1f} s")
    settings = Settings(
        database_url=url,
        smtp_port=receivers.smtp_port,
        webhook_url=receivers.url,
        webhook_secret=SECRET,
        reminder_senders=args.senders,
        reminder_batch_size=args.batch,
    )
    dispatcher = Dispatcher(get_engine(url), settings, clock, factories(settings, clock))
    load_before = os.getloadavg()[0]
    receiver_cpu = receivers.cpu()
    cpu, start = time.process_time(), time.perf_counter()
    outcome = dispatcher.run_once()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    receiver_cpu = receivers.cpu() - receiver_cpu
    load_after = os.getloadavg()[0]
    dispatcher.close()
    received, unique, bad = receivers.stop()
    floor_keys = 2 * per_thread * args.senders * 3 // 2
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(
        f"dispatched {dict(outcome)} in {elapsed:.1f} s: {args.count / elapsed:,.0f} msg/s "
        f"= {100 * (args.count / elapsed) / rates['mixed']:.0f}% of the floor "
        f"({backend}, {args.senders} senders, batches of {args.batch})"
    )
    print(
        f"CPU: dispatcher {cpu:.1f} s ({1e6 * cpu / args.count:.0f} us/msg), receivers "
        f"{receiver_cpu:.1f} s ({1e6 * receiver_cpu / args.count:.0f} us/msg); "
        f"load average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores"
    )
    print(
        f"receivers: {received - floor_keys:,} reminders received, "
        f"{received - unique:,} duplicates, {bad} bad signatures"
    )
    goal = 120.0 * args.count / 100_000
    print(f"goal: {args.count:,} within {goal:.0f} s: {'met' if elapsed <= goal else 'MISSED'}")


if __name__ == "__main__":
    main()
