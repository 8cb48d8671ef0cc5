"""APScheduler 3.x wiring: the clock that drives the reminder outbox, and nothing more.

No reminder lives only as an APScheduler job. Three jobs per process, each an interval job run
every poll, first at start-up: ``dispatch`` sends what the outbox says is due, ``digests``
queues each site's digests once its local digest time has come (idempotent rows), ``refresh``
re-derives the plans of a site once a new local day has begun there (its reminders, and the
pharmacy's preparation list kept for the day). None depends on sites
known at start-up, so a site added later is served without a restart, and none is a one-off
run that APScheduler could drop as misfired. Jobs are kept in memory, never in a job store, so
nothing is pickled or silently dropped; ``coalesce`` and ``max_instances=1`` keep one run of
each at a time per process; a generous misfire grace means a late run still runs, and whether
a late *reminder* is still worth sending is decided by its row's ``expires_at``. Every process
may start its own scheduler (each web worker and any number of ``dosing worker`` processes):
claims and inserts are safe against one another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from scheduler.clock import Clock, SystemClock
from scheduler.kernel.projections import refresh_derived
from scheduler.kernel.unit import unit_of_work
from scheduler.models import Site
from scheduler.pharmacy.kept_rows import keep_rows, out_of_date
from scheduler.reminders.channels.registry import ChannelFactory, factories
from scheduler.reminders.digests import queue_digests
from scheduler.reminders.dispatch import Dispatcher
from scheduler.reminders.outbox import subjects_to_refresh
from scheduler.settings import Settings

log = logging.getLogger("scheduler.reminders.jobs")

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600}
REFRESH_AT = time(0, 15)
"""Local time after which a site's new day is re-derived: plans' "today" has moved there."""
REFRESH_CHUNK = 200
ACTOR = "reminder-jobs"


def refresh_moving_plans(
    engine: Engine, settings: Settings, clock: Clock, site_id: int | None = None
) -> int:
    """Re-derive the reminders of every opted-in subject (of one site): the horizon moves each
    day, and an open hold moves later cycles day by day. Returns how many subjects."""
    with Session(engine) as session:
        ids = subjects_to_refresh(session, site_id)
    for start in range(0, len(ids), REFRESH_CHUNK):
        with unit_of_work(engine, ACTOR, clock, settings) as unit:
            refresh_derived(unit, sorted(i for i in ids[start : start + REFRESH_CHUNK] if i))
    return len(ids)


def keep_preparation_rows(engine: Engine, settings: Settings, clock: Clock, site_id: int) -> int:
    """Keep the pharmacy's preparation list of one site for its new day, so the list reads the
    rows instead of deriving every plan on each request. Returns how many subjects it derived
    (those whose kept rows were out of date)."""
    with Session(engine) as session:
        site = session.get(Site, site_id)
        ids = out_of_date(session, clock.now(), site, settings.site_holidays) if site else []
    for start in range(0, len(ids), REFRESH_CHUNK):
        with unit_of_work(engine, ACTOR, clock, settings) as unit:
            keep_rows(
                unit.session, unit.now, settings.site_holidays, ids[start : start + REFRESH_CHUNK]
            )
    return len(ids)


def build_digests(engine: Engine, settings: Settings, clock: Clock) -> int:
    """Queue the digests of every site whose digest time has come; returns how many rows were
    new. Run every poll: most runs find nothing to do, and a new site needs no new job."""
    with unit_of_work(engine, ACTOR, clock, settings) as unit:
        return queue_digests(unit.session, settings, unit.now)


def _named(name: str, job: Callable[[], object]) -> Callable[[], None]:
    """The job under its own name in APScheduler's log lines and ours, and kept alive: a failed
    run is logged and the next run tries again."""

    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("job %s failed", name)

    run.__name__ = run.__qualname__ = name
    return run


class ReminderJobs:
    """The scheduler of one process and the dispatcher its polling job drives."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        clock: Clock | None = None,
        channels: dict[str, ChannelFactory] | None = None,
    ) -> None:
        self.engine, self.settings = engine, settings
        self.clock = clock or SystemClock()
        self.dispatcher = Dispatcher(
            engine, settings, self.clock, channels or factories(settings, self.clock)
        )
        self.scheduler = BackgroundScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
        self._stopping = threading.Event()
        self._refreshed: dict[int, date] = {}
        """The local day each site was last re-derived for, by this process."""

    def dispatch(self) -> None:
        """The polling job: send what is due; hands back unsent claims when stopping."""
        self.dispatcher.run_once(stop=self._stopping.is_set)

    def digests(self) -> None:
        build_digests(self.engine, self.settings, self.clock)

    def refresh(self) -> None:
        """Re-derive each site whose new local day has begun (every site on the first run:
        the catch-up after downtime). Kept per process; re-deriving twice changes nothing."""
        now = self.clock.now()
        with Session(self.engine) as session:
            sites = list(session.exec(select(Site).order_by(col(Site.code))))
        for site in sites:
            local = now.astimezone(ZoneInfo(site.time_zone))
            last = self._refreshed.get(site.id or 0)
            if last is not None and (local.date() <= last or local.time() < REFRESH_AT):
                continue
            refresh_moving_plans(self.engine, self.settings, self.clock, site.id)
            keep_preparation_rows(self.engine, self.settings, self.clock, site.id or 0)
            self._refreshed[site.id or 0] = local.date()

    def start(self) -> None:
        # APScheduler runs on the wall clock whatever clock the jobs are given (a test's fixed
        # clock must not make the first runs look months late).
        startup = SystemClock().now() + timedelta(seconds=1)
        jobs: dict[str, Callable[[], None]] = {
            "digests": self.digests,
            "refresh": self.refresh,
            "dispatch": self.dispatch,
        }
        for name, job in jobs.items():
            self.scheduler.add_job(
                _named(name, job),
                IntervalTrigger(seconds=self.settings.reminder_poll_seconds),
                id=name,
                name=name,
                next_run_time=startup,
            )
        self.scheduler.start()
        log.info(
            "reminder jobs started (%s, every %g s)",
            self.dispatcher.worker,
            self.settings.reminder_poll_seconds,
        )

    def stop(self) -> None:
        self._stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.dispatcher.close()


@contextmanager
def running_jobs(
    engine: Engine, settings: Settings, clock: Clock | None = None
) -> Iterator[ReminderJobs]:
    jobs = ReminderJobs(engine, settings, clock)
    jobs.start()
    try:
        yield jobs
    finally:
        jobs.stop()


def _show_job_log() -> None:
    """Under uvicorn nothing shows the application's INFO lines: show this package's (jobs
    started, batches dispatched), not APScheduler's line per run."""
    package = logging.getLogger("scheduler")
    if package.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    package.addHandler(handler)
    package.setLevel(logging.INFO)


def attach_to_app(app: Any) -> None:
    """Run the jobs for as long as the web application runs (`dosing serve`)."""
    _show_job_log()
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        state = application.state
        with running_jobs(state.engine, state.settings, state.clock) as jobs:
            state.reminder_jobs = jobs
            async with previous(application) as inner:
                yield inner

    app.router.lifespan_context = lifespan
