"""vdirsyncer subscribes to the real feed URLs served by the app under uvicorn on loopback, and
khal lists what it synced: the same plan, before and after a hold, through the real endpoint
(gzip, ETag and Last-Modified as a polling client meets them) on SQLite and PostgreSQL.

The app runs in a thread of the test process with a fixed clock, so the plan the test expects
and the plan the server renders are computed for the same moment.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import uvicorn
from ical_consumers import KHAL, KhalSubscriptions, planned_events, untitled
from sqlmodel import Session, select

from scheduler.app.demo import seed_demo
from scheduler.app.web import create_app
from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.feeds.identities import feed_options, stored_identities
from scheduler.feeds.tokens import PATIENT, issue_feed
from scheduler.kernel.sites import ensure_default_site, get_site
from scheduler.kernel.subject_state import plan_for
from scheduler.models import Subject
from scheduler.settings import Settings
from scheduler.subjects.treatment import hold

CODES = ("DEMO-002", "DEMO-004", "DEMO-005")
"""On treatment, on hold now (cancelled doses), discontinued (cancelled visits)."""


@contextmanager
def _serving(app: object) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def _expected(db_url: str, code: str, now: datetime, settings: Settings):
    engine = get_engine(db_url)
    with Session(engine) as session:
        plan = plan_for(session, code, now)
        subject = session.exec(select(Subject).where(Subject.code == code)).one()
        options = feed_options(settings, get_site(session, "ZJU1"))
        identities = stored_identities(session, PATIENT, {code: subject.id or 0})
    return untitled(e.view.seen_by(KHAL) for e in planned_events(plan, identities, options))


def test_khal_shows_the_plan_from_the_served_url_before_and_after_a_hold(
    units, db_url, settings, tmp_path
):
    now = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    with units(now=now) as unit:
        seed_demo(unit, ensure_default_site(unit, settings))
        tokens = {code: issue_feed(unit, settings, PATIENT, code).token for code in CODES}
    app = create_app(Settings(database_url=db_url, user="web"), FixedClock(now))
    window = (date(2025, 11, 1), date(2027, 12, 31))
    khal = KhalSubscriptions(tmp_path / "khal")
    with _serving(app) as base:
        names = {code: khal.subscribe(f"{base}/feeds/{tokens[code]}.ics") for code in CODES}
        first = khal.sync(window)
        for code in CODES:
            expected = _expected(db_url, code, now, settings)
            assert len(expected) > 20
            assert untitled(first[names[code]].events) == expected, code

        later = now + timedelta(days=2)
        with units(now=later) as unit:
            hold(unit, "DEMO-002", start=later.date().isoformat(), reason="grade 3 rash")
        app.state.clock = FixedClock(later)
        second = khal.sync(window)
    held = _expected(db_url, "DEMO-002", later, settings)
    assert untitled(second[names["DEMO-002"]].events) == held
    assert second[names["DEMO-002"]].events != first[names["DEMO-002"]].events
    assert any(e.status == "CANCELLED" for e in second[names["DEMO-002"]].events)
    for code in ("DEMO-004", "DEMO-005"):
        assert second[names[code]].events == first[names[code]].events
