"""Calendar feed speed: render time for one subject's full 8-cycle plan, and requests per second
for a full fetch and a 304 revalidation on the running server, against a bare Starlette
endpoint returning the same bytes (the floor). Prints figures; asserts nothing.

    .venv/bin/python benchmarks/feed_render.py [--seconds 3] [--rounds 3] [--connections 8]
        [--render-only]

Render: a subject enrolled on the shipped 8-cycle protocol (112 dose events, 15 visits), in
New York reading English, and one in Shanghai reading Simplified Chinese. "cold" clears every
memo (serialised events and VTIMEZONEs) before each render, so it is what a first fetch or a
changed plan costs; "warm" renders unchanged items again with the memos, as a revalidation
after a day change does; "cold events" clears only the serialised events, keeping the VTIMEZONE
a process builds once per zone (icalendar takes about 40 ms to build Asia/Shanghai's, a zone
without DST since 1991: most of the Chinese subject's "cold"). All include building the items
from the plan. "served rebuild" is the whole path of a fetch whose revision is stale (a record
changed): read the subject, derive the plan, sync identities with the database, render (warm
memo for unchanged events), store the revision.

Server: ``dosing``'s app under uvicorn on 127.0.0.1 in a subprocess, on SQLite with the demo
trial, one worker, access log on (as ``dosing serve`` runs it; the token redaction filter is
part of the cost); the per-token rate limit is lifted for the run. The floor is a Starlette app
with one route answering the same body and headers (and 304 for the ETag), under the same
uvicorn settings. The load client is aiohttp with N keep-alive connections in this process:
with two cores the client shares the machine with the server, which lowers the floor most.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as wall_time
from pathlib import Path

import aiohttp
import httpx
from sqlalchemy import Engine, update
from sqlmodel import Session

import calendars
import calendars.render
from scheduler.app.bootstrap import bootstrap
from scheduler.app.demo import seed_demo
from scheduler.appointments.clinics import set_up_clinic
from scheduler.clock import FixedClock, SystemClock
from scheduler.core.appointments import Booking
from scheduler.db import get_engine
from scheduler.feeds.identities import feed_options
from scheduler.feeds.serving import fetch_feed
from scheduler.feeds.tokens import PATIENT, issue_feed
from scheduler.kernel.protocol_versions import load_shipped_protocols
from scheduler.kernel.sites import ensure_default_site, get_site
from scheduler.kernel.subject_state import plan_for
from scheduler.kernel.unit import unit_of_work
from scheduler.migrate import upgrade
from scheduler.models import FeedRevision
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll

HOST = "127.0.0.1"
BENCH_CODE = "BENCH-001"


def _timed(action: Callable[[], object], repeat: int, before: Callable[[], None]) -> float:
    """Median milliseconds of ``action`` over ``repeat`` runs, ``before`` untimed each time."""
    samples = []
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _clear_memos() -> None:
    calendars.render.clear_cache()
    calendars.render._timezone_bytes.cache_clear()


def render_figures(url: str, repeat: int) -> None:
    engine = get_engine(url)
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    settings = Settings(database_url=url)
    for code, zone, language in SUBJECTS:
        _subject_figures(engine, settings, now, repeat, code, zone, language)
    with unit_of_work(engine, "bench", FixedClock(now)) as unit:
        set_up_clinic(unit, "ZJU1", open_days="mon,tue,wed,thu,fri")
    _subject_figures(engine, settings, now, repeat, "BENCH-BOOKED", "Asia/Shanghai", "zh_CN", True)


SUBJECTS = (
    (BENCH_CODE, "America/New_York", "en"),
    ("BENCH-ZH", "Asia/Shanghai", "zh_CN"),
)
"""An English subject and a Chinese one (every title and description non-ASCII, so every
event is written through the UTF-8 folding of the fast writer). A third Chinese subject is at
a site that books appointments, with every visit booked (timed events at the site)."""


def _subject_figures(
    engine: Engine,
    settings: Settings,
    now: datetime,
    repeat: int,
    code: str,
    zone: str,
    language: str,
    booked: bool = False,
) -> None:
    with unit_of_work(engine, "bench", FixedClock(now)) as unit:
        enroll(
            unit,
            code,
            c1d1="2026-03-09",
            surgery="2026-02-01",
            site_code="ZJU1",
            time_zone=zone,
            language=language,
        )
    with Session(engine) as session:
        plan = plan_for(session, code, now)
        options = feed_options(settings, get_site(session, "ZJU1"), language=language)
    bookings = None
    if booked:
        place = "The First Affiliated Hospital, 79 Qingchun Road, Hangzhou"
        bookings = {
            v.code: Booking(
                visit_code=v.code, on=v.target, at=wall_time(9, 0), minutes=30, place=place
            )
            for v in plan.visits
        }
    items = calendars.patient_items(plan, options, bookings=bookings)
    identities = calendars.assign_identities(items, {}, now)
    doses = sum(1 for item in items if item.key.startswith("dose:"))
    cycles = len(plan.cycles)

    def render() -> bytes:
        return calendars.render_feed(
            calendars.patient_items(plan, options, bookings=bookings),
            identities,
            options,
            plan.today,
        )

    body = render()
    cold = _timed(render, repeat, _clear_memos)
    events = _timed(render, repeat, calendars.render.clear_cache)
    warm = _timed(render, repeat, lambda: None)
    clock = FixedClock(now)
    with unit_of_work(engine, "bench", clock) as unit:
        token = issue_feed(unit, settings, PATIENT, code).token
    fetch_feed(engine, token, clock, settings)

    def stale() -> None:
        with engine.begin() as connection:
            connection.execute(update(FeedRevision).values(source_revision=-1))

    served = _timed(lambda: fetch_feed(engine, token, clock, settings), repeat, stale)
    print(
        f"render, one {language} subject in {zone}{', every visit booked' if booked else ''} "
        f"({cycles} cycles, {doses} doses, "
        f"{len(items) - doses} visits, {len(body):,} bytes), median of {repeat}:"
    )
    print(f"  cold (no memo, items + render): {cold:7.2f} ms")
    print(f"  cold events (zone memo kept):   {events:7.2f} ms")
    print(f"  warm (memoised events):         {warm:7.2f} ms")
    print(
        f"  served rebuild (stale revision: DB, plan, identities, render, store): {served:.2f} ms"
    )


# -- servers ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _serve_feeds(port: int) -> None:
    """Child process: the real app, as ``dosing serve`` runs it."""
    import uvicorn

    from scheduler.app.web import create_app
    from scheduler.settings import get_settings

    uvicorn.run(create_app(get_settings()), host=HOST, port=port, log_level="info")


def _serve_bare(port: int, body_file: str, etag: str, last_modified: str) -> None:
    """Child process: one Starlette route answering the same bytes and headers."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = Path(body_file).read_bytes()
    headers = {
        "ETag": etag,
        "Last-Modified": last_modified,
        "Cache-Control": "private",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
        "Content-Disposition": 'inline; filename="calendar.ics"',
    }

    def feed(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, 200, headers, "text/calendar; charset=utf-8")

    app = Starlette(routes=[Route("/feeds/{token}.ics", feed, methods=["GET", "HEAD"])])
    uvicorn.run(app, host=HOST, port=port, log_level="info")


class Server:
    """A child process serving on loopback until closed."""

    def __init__(self, args: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, __file__, *args],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {args} exited with {self.process.returncode}")
            try:
                with socket.create_connection((HOST, port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError(f"server {args} did not start")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- load -------------------------------------------------------------------------------------


async def _load(
    url: str, headers: dict[str, str], status: int, seconds: float, conns: int
) -> float:
    """Responses per second with ``conns`` keep-alive connections; each must have ``status``."""
    connector = aiohttp.TCPConnector(limit=conns, force_close=False)
    done = 0
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

        async def one() -> None:
            async with session.get(url, headers=headers) as response:
                await response.read()
                if response.status != status:
                    raise RuntimeError(f"{url}: {response.status}, expected {status}")

        for _ in range(conns * 20):  # warm up the connections and the server's caches
            await one()
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await one()
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conns)))
        return done / (time.perf_counter() - start)


def _rates(url: str, etag: str, seconds: float, conns: int) -> tuple[float, float]:
    plain = {"Accept-Encoding": "identity"}
    full = asyncio.run(_load(url, plain, 200, seconds, conns))
    revalidate = asyncio.run(_load(url, {**plain, "If-None-Match": etag}, 304, seconds, conns))
    return full, revalidate


def server_figures(folder: Path, seconds: float, conns: int, rounds: int) -> None:
    url = f"sqlite:///{folder / 'served.db'}"
    upgrade(url)
    engine = get_engine(url)
    settings = Settings(database_url=url)
    with unit_of_work(engine, "bench", SystemClock()) as unit:
        load_shipped_protocols(unit)
        seed_demo(unit, ensure_default_site(unit, settings))
        token = issue_feed(unit, settings, PATIENT, "DEMO-002").token
    engine.dispose()
    env = {
        "DOSING_DATABASE_URL": url,
        "DOSING_FEED_RATE_PER_SECOND": "1000000",
        "DOSING_FEED_RATE_BURST": "1000000",
        "DOSING_SCHEDULER_ENABLED": "false",
    }
    servers: list[Server] = []
    try:
        port = _free_port()
        servers.append(Server(["--serve-feeds", str(port)], env, port))
        feed_url = f"http://{HOST}:{port}/feeds/{token}.ics"
        first = httpx.get(feed_url, headers={"Accept-Encoding": "identity"})
        first.raise_for_status()
        etag, last_modified = first.headers["etag"], first.headers["last-modified"]
        body_file = folder / "feed.ics"
        body_file.write_bytes(first.content)
        port = _free_port()
        servers.append(
            Server(["--serve-bare", str(port), str(body_file), etag, last_modified], {}, port)
        )
        bare_url = f"http://{HOST}:{port}/feeds/{token}.ics"
        # Rounds alternate between the two servers, so a change in the machine's load (other
        # processes) touches both; the median of the rounds is printed.
        feed_runs, bare_runs = [], []
        for _ in range(rounds):
            feed_runs.append(_rates(feed_url, etag, seconds, conns))
            bare_runs.append(_rates(bare_url, etag, seconds, conns))
    finally:
        for server in servers:
            server.close()
    feed = tuple(statistics.median(run[i] for run in feed_runs) for i in (0, 1))
    floor = tuple(statistics.median(run[i] for run in bare_runs) for i in (0, 1))
    print(
        f"HTTP on {HOST}, DEMO-002's feed ({len(first.content):,} bytes), {conns} keep-alive "
        f"connections, aiohttp client, median of {rounds} rounds of {seconds:g} s:"
    )
    print(f"  {'':28}{'full fetch (200)':>18}{'revalidation (304)':>20}")
    print(f"  {'dosing feed endpoint':28}{feed[0]:14.0f}/s  {feed[1]:16.0f}/s")
    print(f"  {'bare Starlette (floor)':28}{floor[0]:14.0f}/s  {floor[1]:16.0f}/s")
    print(f"  {'share of the floor':28}{feed[0] / floor[0]:15.0%}   {feed[1] / floor[1]:16.0%}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve-feeds":
        _serve_feeds(int(sys.argv[2]))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--serve-bare":
        _serve_bare(int(sys.argv[2]), *sys.argv[3:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each load run")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=3, help="load rounds per server")
    parser.add_argument("--repeat", type=int, default=50, help="renders per render figure")
    parser.add_argument(
        "--render-only", action="store_true", help="the render figures, without the load runs"
    )
    args = parser.parse_args()
    bootstrap()  # the projections every unit of work refreshes
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average before the run: {load}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'render.db'}"
        upgrade(url)
        with unit_of_work(get_engine(url), "bench", SystemClock()) as unit:
            load_shipped_protocols(unit)
            ensure_default_site(unit, Settings(database_url=url))
        render_figures(url, args.repeat)
        get_engine(url).dispose()
        if not args.render_only:
            server_figures(folder, args.seconds, args.connections, args.rounds)


if __name__ == "__main__":
    main()
