"""One writer per subject: processes writing through the CLI, the API and the pages at the same
moment, to the same subjects and the same dose slots.

Every write either is acknowledged (HTTP 201/303, exit 0) and stored, or is refused as a person
would be refused one at a time (HTTP 409, exit 2): no deadlock, no server error, no
acknowledged write lost, and never two uncorrected first records of one dose slot. Before,
PostgreSQL deadlocked on a dose and an adverse event posted together, and SQLite stored two
"first" records when two writers raced for one slot.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from fixed_clock import FIXED_NOW
from sqlalchemy import func
from sqlmodel import Session, col, select

from scheduler.app.demo import seed_demo
from scheduler.db import get_engine
from scheduler.kernel.sites import ensure_default_site
from scheduler.models import AdverseEvent, DoseRecord
from scheduler.staff.accounts import create_staff, issue_api_token

PASSWORD = "concurrent-password"
DOSE_SUBJECTS = ("DEMO-002",)
"""On treatment on the fixed clock's day, 2026-03-02 in Shanghai, its diary kept up to 02-27."""
EVENT_SUBJECTS = ("DEMO-002", "DEMO-003")
DAYS = tuple(date(2026, 3, 2) - timedelta(days=n) for n in range(1, 3))
ROUNDS = 3
AE_REASON = "reported again by another writer"


def _jobs(worker: int) -> list[tuple[str, str, str]]:
    """(kind, subject, day): every worker writes every slot, so most first entries collide;
    each also reports an adverse event per subject and round, which never collide (each gives
    the reason a second event with the same term, grade and onset needs)."""
    jobs = [("dose", code, day.isoformat()) for code in DOSE_SUBJECTS for day in DAYS]
    jobs += [("ae", code, DAYS[0].isoformat()) for code in EVENT_SUBJECTS for _ in range(ROUNDS)]
    return jobs[worker % 2 :] + jobs[: worker % 2]


def _through_api(db_url: str, token: str, jobs: list[tuple[str, str, str]]) -> list[Any]:
    from fastapi.testclient import TestClient

    from scheduler.app.web import create_app
    from scheduler.clock import FixedClock
    from scheduler.settings import Settings

    app = create_app(Settings(database_url=db_url, user="web"), FixedClock(FIXED_NOW))
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    outcomes = []
    for kind, code, day in jobs:
        if kind == "dose":
            answer = client.post(f"/api/subjects/{code}/doses", json={"date": day, "taken": True})
        else:
            answer = client.post(
                f"/api/subjects/{code}/adverse-events",
                json={
                    "term": "fatigue",
                    "grade": 1,
                    "onset": day,
                    "related": True,
                    "reason": AE_REASON,
                },
            )
        outcomes.append(
            (kind, code, day, "ok" if answer.status_code == 201 else answer.status_code)
        )
    return outcomes


def _through_pages(db_url: str, name: str, jobs: list[tuple[str, str, str]]) -> list[Any]:
    from web_fixtures import log_in

    from scheduler.app.web import create_app
    from scheduler.clock import FixedClock
    from scheduler.settings import Settings

    app = create_app(Settings(database_url=db_url, user="web"), FixedClock(FIXED_NOW))
    client = log_in(app, name, PASSWORD)
    outcomes = []
    for kind, code, day in jobs:
        if kind == "dose":
            answer = client.form(
                f"/subjects/{code}/doses",
                {"date": day, "outcome": "taken"},
                follow_redirects=False,
            )
        else:
            answer = client.form(
                f"/subjects/{code}/adverse-events",
                {
                    "term": "fatigue",
                    "grade": "1",
                    "onset": day,
                    "related": "yes",
                    "reason": AE_REASON,
                },
                follow_redirects=False,
            )
        outcomes.append(
            (kind, code, day, "ok" if answer.status_code == 303 else answer.status_code)
        )
    return outcomes


def _through_cli(db_url: str, name: str, jobs: list[tuple[str, str, str]]) -> list[Any]:
    from scheduler.app.cli import main

    outcomes = []
    for kind, code, day in jobs:
        if kind == "dose":
            argv = ["dose", code, "--date", day, "--taken"]
        else:
            argv = ["ae", code, "--term", "fatigue", "--grade", "1", "--onset", day, "--related"]
            argv += ["--reason", AE_REASON]
        try:
            main([*argv, "--db", db_url, "--user", name])
            status = 0
        except SystemExit as exit_info:
            status = int(exit_info.code or 0)
        outcomes.append((kind, code, day, "ok" if status == 0 else f"exit {status}"))
    return outcomes


def _worker(args: tuple[str, str, str, str, int]) -> list[Any]:
    face, db_url, name, token, worker = args
    os.environ["DOSING_PASSWORD_HASH_COST"] = "minimal"
    from scheduler.app.bootstrap import bootstrap

    bootstrap()
    jobs = _jobs(worker)
    if face == "api":
        return _through_api(db_url, token, jobs)
    if face == "pages":
        return _through_pages(db_url, name, jobs)
    return _through_cli(db_url, name, jobs)


@pytest.mark.slow
def test_writers_of_one_subject_queue_and_nothing_acknowledged_is_lost(db_url, units, settings):
    with units("admin-setup") as unit:
        seed_demo(unit, ensure_default_site(unit, settings))
        create_staff(unit, "race.nurse", role="nurse", password=PASSWORD)
        token = issue_api_token(unit, "race.nurse", label="race")
    engine = get_engine(db_url)
    with Session(engine) as session:
        doses_before = session.exec(select(func.count(col(DoseRecord.id)))).one()
        events_before = session.exec(select(func.count(col(AdverseEvent.id)))).one()
    faces = ("api", "api", "pages", "cli")
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(faces)) as pool:
        results = pool.map(
            _worker,
            [(face, db_url, "race.nurse", token, n) for n, face in enumerate(faces)],
        )
    outcomes = [o for result in results for o in result]
    refusals = Counter(o[3] for o in outcomes if o[3] != "ok")
    assert set(refusals) <= {409, "exit 2"}, refusals

    acknowledged = Counter((kind, code, day) for kind, code, day, o in outcomes if o == "ok")
    with Session(engine) as session:
        doses = session.exec(
            select(DoseRecord.subject_id, DoseRecord.dose_date, DoseRecord.corrects_id).where(
                col(DoseRecord.id) > doses_before
            )
        ).all()
        events = session.exec(select(func.count(col(AdverseEvent.id)))).one() - events_before
    first_entries = Counter((s, d) for s, d, corrects in doses if corrects is None)
    assert all(n == 1 for n in first_entries.values()), first_entries
    assert len(doses) == sum(n for (kind, _, _), n in acknowledged.items() if kind == "dose")
    # Each slot was written by every worker: exactly one of them is acknowledged.
    assert all(acknowledged[("dose", c, d.isoformat())] == 1 for c in DOSE_SUBJECTS for d in DAYS)
    assert events == sum(n for (kind, _, _), n in acknowledged.items() if kind == "ae")
    assert events == len(faces) * len(EVENT_SUBJECTS) * ROUNDS
