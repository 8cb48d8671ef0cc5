"""APScheduler 3.x wiring: the clock that drives the reminder outbox, and nothing more.

No reminder lives only as an APScheduler job. The jobs here only poll (dispatch what the outbox
says is due), build digests (idempotent rows) and re-derive plans that move with time. Jobs are
kept in memory, never in a job store, so nothing is pickled or silently dropped; ``coalesce``
and ``max_instances=1`` keep one run of each at a time per process; a generous misfire grace
means a late run still runs, and whether a late *reminder* is still worth sending is decided by
its row's ``expires_at``. Every process may start its own scheduler (each web worker and any
number of ``dosing worker`` processes): claims and inserts are safe against one another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlmodel import Session, select

from scheduler.channels.registry import ChannelFactory, factories
from scheduler.clock import Clock, SystemClock
from scheduler.models import Site
from scheduler.services.derived import refresh_derived
from scheduler.services.reminder_digests import queue_digests
from scheduler.services.reminder_dispatch import Dispatcher
from scheduler.services.reminders import subjects_to_refresh
from scheduler.services.unit import unit_of_work
from scheduler.settings import Settings

log = logging.getLogger("scheduler.jobs")

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600}
REFRESH_CHUNK = 200
ACTOR = "reminder-jobs"


def refresh_moving_plans(engine: Engine, clock: Clock, site_id: int | None = None) -> int:
    """Re-derive the reminders of every opted-in subject (of one site): the horizon moves each
    day, and an open hold moves later cycles day by day. Returns how many subjects."""
    with Session(engine) as session:
        ids = subjects_to_refresh(session, site_id)
    for start in range(0, len(ids), REFRESH_CHUNK):
        with unit_of_work(engine, ACTOR, clock) as unit:
            refresh_derived(unit, sorted(i for i in ids[start : start + REFRESH_CHUNK] if i))
    return len(ids)


def build_digests(engine: Engine, settings: Settings, clock: Clock, site_code: str | None) -> int:
    with unit_of_work(engine, ACTOR, clock) as unit:
        return queue_digests(
            unit.session,
            settings,
            unit.now,
            site_codes=None if site_code is None else [site_code],
        )


def _logged(job: Callable[..., object]) -> Callable[..., None]:
    def run(*args: object, **kwargs: object) -> None:
        try:
            job(*args, **kwargs)
        except Exception:  # keep the scheduler alive; the next run tries again
            log.exception("job %s failed", job.__name__)

    run.__name__ = job.__name__
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

    def dispatch(self) -> None:
        """The polling job: send what is due; hands back unsent claims when stopping."""
        self.dispatcher.run_once(stop=self._stopping.is_set)

    def start(self) -> None:
        settings, engine, clock = self.settings, self.engine, self.clock
        with Session(engine) as session:
            sites = list(session.exec(select(Site)))
        at = settings.digest_time
        for site in sites:
            self.scheduler.add_job(
                _logged(build_digests),
                CronTrigger(hour=at.hour, minute=at.minute, timezone=site.time_zone),
                args=(engine, settings, clock, site.code),
                id=f"digests-{site.code}",
            )
            self.scheduler.add_job(
                _logged(refresh_moving_plans),
                CronTrigger(hour=0, minute=15, timezone=site.time_zone),
                args=(engine, clock, site.id),
                id=f"refresh-{site.code}",
            )
        # After downtime: today's digests if still within their grace, reminders re-derived.
        # APScheduler runs on the wall clock whatever clock the jobs are given (a test's fixed
        # clock must not make the first runs look months late).
        startup = SystemClock().now() + timedelta(seconds=1)
        self.scheduler.add_job(
            _logged(build_digests), args=(engine, settings, clock, None), next_run_time=startup
        )
        self.scheduler.add_job(
            _logged(refresh_moving_plans), args=(engine, clock), next_run_time=startup
        )
        self.scheduler.add_job(
            _logged(self.dispatch),
            IntervalTrigger(seconds=settings.reminder_poll_seconds),
            id="dispatch",
            next_run_time=startup,
        )
        self.scheduler.start()
        log.info("reminder jobs started (%s, %d sites)", self.dispatcher.worker, len(sites))

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


def served_app() -> Any:
    """The web application as one `dosing serve --workers N` process runs it: built from the
    environment, with this process's own reminder jobs unless DOSING_SCHEDULER_ENABLED=false."""
    from scheduler.settings import get_settings
    from scheduler.web.app import create_app, freeze_startup_heap

    settings = get_settings()
    app = create_app(settings)
    if settings.scheduler_enabled:
        attach_to_app(app)
    freeze_startup_heap()
    return app
