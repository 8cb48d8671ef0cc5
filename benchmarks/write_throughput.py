"""Dose writes per second: 4 writer processes, each on its own subjects, through the service
layer (one unit of work per dose, as the CLI and the pages do) and through the JSON API (an
in-process HTTP client per writer), against the floor measured in the same run: bare one-row
commits on the same database engine (SQLite in WAL mode; PostgreSQL). Prints figures, and the
writers' CPU time a write; asserts nothing.

    .venv/bin/python benchmarks/write_throughput.py [--writers 4] [--doses 100]
        [--db postgresql+psycopg://postgres@127.0.0.1:5432/dosing_bench]

The API writers run three times: with httpx over ASGI on the app's own event loop, as a server
(uvicorn) runs it, and with Starlette's TestClient, which runs the app on a second thread behind
a blocking portal and crosses to it and back for every request, work no server does (some 3 ms
of CPU a request here); either client's own work (building the request, reading the answer) is
counted, since it runs in the writer's process. Then as a deployment runs: `dosing serve
--workers N` (``--server-workers``, default 2) in processes of its own, each writer a client
over loopback TCP with one kept-alive connection; the CPU printed for it is the clients' only.

Without ``--db`` it runs on a new SQLite file. A PostgreSQL database named by ``--db`` is
dropped and created again.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

C1D1 = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=14)
"""Subjects on treatment: cycle 1 began two weeks ago at the (Hangzhou) site, so its 14 dosing
days have all passed and each is recorded as the nurse does, the same week. (Doses recorded for
a plan long finished would also move its end-of-treatment visit with each one, which is not
what a dose write costs in the clinic.)"""
DOSING_DAYS = [C1D1 + timedelta(days=d) for d in range(14)]
Job = tuple[str, int, int, "multiprocessing.Barrier"]
"""A writer's database, number, doses and start barrier."""
Span = tuple[float, float, float]
"""When a writer began and ended (monotonic seconds), and its CPU seconds in between."""


def _codes(writer: int, doses: int) -> list[str]:
    per_subject = len(DOSING_DAYS)
    return [f"W{writer}-{n:03d}" for n in range(-(-doses // per_subject))]


def _jobs(writer: int, doses: int) -> list[tuple[str, date]]:
    return [(code, day) for code in _codes(writer, doses) for day in DOSING_DAYS][:doses]


def _setup(url: str, writers: int, doses: int) -> None:
    from scheduler.app.bootstrap import bootstrap
    from scheduler.db import get_engine
    from scheduler.kernel.protocol_versions import load_shipped_protocols
    from scheduler.kernel.sites import ensure_default_site
    from scheduler.kernel.unit import unit_of_work
    from scheduler.migrate import upgrade
    from scheduler.settings import Settings
    from scheduler.staff.accounts import create_staff, issue_api_token
    from scheduler.subjects.enrolment import enroll

    bootstrap()
    upgrade(url)
    settings = Settings(database_url=url)
    with unit_of_work(get_engine(url), "bench-setup", settings=settings) as unit:
        load_shipped_protocols(unit)
        site = ensure_default_site(unit, settings)
        for writer in range(writers):
            for mode in ("svc", "asgi", "testclient", "http"):
                for code in _codes(writer, doses):
                    enroll(
                        unit,
                        f"{mode}-{code}",
                        c1d1=C1D1,
                        surgery=C1D1 - timedelta(days=35),
                        site_code=site.code,
                    )
        create_staff(unit, "bench.nurse", role="nurse", password="bench-password")
        token = issue_api_token(unit, "bench.nurse", label="bench")
    os.environ["BENCH_TOKEN"] = token


def _service_writer(args: Job) -> Span:
    url, writer, doses, start = args
    from scheduler.app.bootstrap import bootstrap
    from scheduler.db import get_engine
    from scheduler.kernel.unit import unit_of_work
    from scheduler.settings import Settings
    from scheduler.subjects.doses import record_dose

    bootstrap()
    engine, settings = get_engine(url), Settings(database_url=url)
    jobs = _jobs(writer, doses)
    start.wait()
    began, cpu = time.monotonic(), time.process_time()
    for code, day in jobs:
        with unit_of_work(engine, "bench.nurse", settings=settings) as unit:
            record_dose(unit, f"svc-{code}", on=day, taken=True)
    return began, time.monotonic(), time.process_time() - cpu


def _api_writer(args: Job) -> Span:
    url, writer, doses, start = args
    from scheduler.app.web import create_app
    from scheduler.settings import Settings

    app = create_app(Settings(database_url=url))
    headers = {"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}"}
    client = os.environ["BENCH_CLIENT"]
    jobs = [
        (f"/api/subjects/{client}-{code}/doses", d.isoformat()) for code, d in _jobs(writer, doses)
    ]
    if client == "testclient":
        from fastapi.testclient import TestClient

        # One event loop for the writer's requests: outside a ``with`` block the test client
        # starts a thread and a loop for every request.
        with TestClient(app, headers=headers) as client:
            return _posted(client, jobs, start)

    import asyncio

    import httpx

    async def write() -> Span:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers
        ) as client:
            start.wait()
            began, cpu = time.monotonic(), time.process_time()
            for path, day in jobs:
                answer = await client.post(path, json={"date": day, "taken": True})
                assert answer.status_code == 201, answer.text
            return began, time.monotonic(), time.process_time() - cpu

    return asyncio.run(write())


def _http_writer(args: Job) -> Span:
    """A client of a real server (`dosing serve`, its own processes) over loopback TCP, one
    connection kept alive: what a program posting doses sees. Its CPU a write is the client's
    alone; the server's is not counted."""
    _, writer, doses, start = args
    headers = {"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}"}
    jobs = [(f"/api/subjects/http-{code}/doses", d.isoformat()) for code, d in _jobs(writer, doses)]
    with httpx.Client(base_url=os.environ["BENCH_BASE_URL"], headers=headers) as client:
        return _posted(client, jobs, start)


def _posted(
    client: httpx.Client, jobs: list[tuple[str, str]], start: multiprocessing.Barrier
) -> Span:
    """The doses posted one after the other by a blocking client, timed from the barrier."""
    start.wait()
    began, cpu = time.monotonic(), time.process_time()
    for path, day in jobs:
        answer = client.post(path, json={"date": day, "taken": True})
        assert answer.status_code == 201, answer.text
    return began, time.monotonic(), time.process_time() - cpu


@contextmanager
def _served(url: str, workers: int) -> Iterator[str]:
    """`dosing serve --workers N` on a free loopback port, its reminder jobs off, until the
    block ends."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = os.environ | {"DOSING_SCHEDULER_ENABLED": "false", "DOSING_DATABASE_URL": url}
    command = [str(Path(sys.executable).parent / "dosing"), "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("dosing serve did not answer within a minute")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _floor_sqlite(path: str, rows: int) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS floor (id INTEGER PRIMARY KEY, v TEXT)")
    began = time.perf_counter()
    for n in range(rows):
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO floor (v) VALUES (?)", (str(n),))
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - began
    connection.close()
    return rows / elapsed


def _floor_postgres(url: str, rows: int) -> float:
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS floor (id serial PRIMARY KEY, v text)"))
        connection.commit()
        began = time.perf_counter()
        for n in range(rows):
            connection.execute(text("INSERT INTO floor (v) VALUES (:v)"), {"v": str(n)})
            connection.commit()
        elapsed = time.perf_counter() - began
    engine.dispose()
    return rows / elapsed


def _run(kind: str, url: str, writers: int, doses: int) -> tuple[float, float]:
    """Writes over the time from the barrier's release to the last writer's end (the writers'
    imports and start-up, which a server pays once, are left out), and the writers' CPU time a
    write (milliseconds, every thread of the process): on a machine whose other work slows the
    rate, the CPU a write costs varies much less."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(writers)
        target = {"service": _service_writer, "api": _api_writer, "http": _http_writer}[kind]
        with context.Pool(writers) as pool:
            spans = pool.map(target, [(url, w, doses, start) for w in range(writers)])
    wall = max(end for _, end, _ in spans) - min(began for began, _, _ in spans)
    return writers * doses / wall, 1000 * sum(cpu for _, _, cpu in spans) / (writers * doses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--doses", type=int, default=100, help="dose writes per writer")
    parser.add_argument("--db", default="")
    parser.add_argument("--server-workers", type=int, default=2)
    options = parser.parse_args()
    os.environ.setdefault("DOSING_PASSWORD_HASH_COST", "minimal")
    if options.db:
        url = options.db
        admin = make_url(url).set(database="postgres")
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        name = make_url(url).database
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        floor = _floor_postgres(url, 1000)
    else:
        folder = tempfile.mkdtemp(prefix="dosing-writes-")
        url = f"sqlite:///{folder}/bench.db"
        floor = _floor_sqlite(f"{folder}/floor.db", 1000)
    _setup(url, options.writers, options.doses)
    service = _run("service", url, options.writers, options.doses)
    rates = {"service layer (one unit of work per dose):": service}
    for client in ("asgi", "testclient"):
        os.environ["BENCH_CLIENT"] = client
        rates[f"JSON API, {client} client:"] = _run("api", url, options.writers, options.doses)
    with _served(url, options.server_workers) as base:
        os.environ["BENCH_BASE_URL"] = base
        label = f"JSON API, dosing serve --workers {options.server_workers}:"
        rates[label] = _run("http", url, options.writers, options.doses)
    backend = make_url(url).get_backend_name()
    print(f"{backend}: {options.writers} writers x {options.doses} dose writes, own subjects")
    print(f"  {'floor (bare one-row commits, one connection):':46s} {floor:8.1f} commits/s")
    for label, (rate, cpu) in rates.items():
        print(f"  {label:46s} {rate:8.1f} writes/s, {cpu:5.1f} ms CPU a write")


if __name__ == "__main__":
    main()
