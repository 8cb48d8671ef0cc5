"""The nurse's worklist with 10,000 active subjects, on SQLite and PostgreSQL.

The subjects are spread over 20 sites (500 each; ``--sites 1`` puts them all at one). Times, for
one site's list and for the list of every site (all 10,000 subjects):
- the service: ``site_worklist`` (one site's list, WorkItems built, grouped and sorted) and
  ``worklists`` (what the page, the API and ``dosing due`` call: the same plus its check for
  subjects without derived rows);
- the floor: one hand-written SQL query (for all the sites at once, as the service draws sites
  sharing a day together) returning the same rows through the raw DB-API cursor, no objects
  built;
- for every site, also ``worklists(first=GROUP_ROWS)``: what the page of every site draws, each
  urgency group's first items and its count.
Prints figures (median, 95th percentile and fastest of the timed rounds, after warm-up: on a
shared machine the fastest is the one least disturbed by other work); asserts only that the
service and the floor return the same number of rows.

Seeding: going through ``enroll`` and the recording services would take minutes, so subjects
are bulk-inserted with one executemany. Each gets a C1D1 in the last 25 weeks and one of 12
generated histories (doses taken up to a few days ago, some missed doses and unrecorded diaries,
visits done on their target day, 2 % never recorded, some open holds); the core builds the
plan of each (C1D1, history) pair once, ``worklist_rows.rows_for`` (the function the refresher
uses) turns it into rows, and those are bulk-inserted with each subject's id, along with some
day-1 checks. Record tables other than ``day1check`` stay empty: the worklist never reads them.

    .venv/bin/python benchmarks/worklist_query.py [--subjects N] [--sites S] [--rounds R]
        [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from scheduler import core
from scheduler.app.bootstrap import bootstrap
from scheduler.app.web import freeze_startup_heap
from scheduler.clock import FixedClock
from scheduler.db import get_engine, normalise_url
from scheduler.kernel.protocol_versions import load_shipped_protocols, protocol_of
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.unit import unit_of_work
from scheduler.migrate import upgrade
from scheduler.models import Day1Check, ProtocolVersion, Site, Subject
from scheduler.pharmacy.accountability import Records
from scheduler.settings import Settings
from scheduler.signatures.records import SIGNED_KINDS
from scheduler.worklist.items import site_worklist, worklists
from scheduler.worklist.pages import GROUP_ROWS
from scheduler.worklist.rows import Rows, insert_rows, rows_for

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
TODAY = date(2026, 3, 2)
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

SIGNED_TABLES = {kind: str(model.__tablename__) for kind, model in SIGNED_KINDS.items()}
FLOOR_SQL = """
SELECT s.code, v.visit_code, v.target, v.window_start, v.window_end, v.dose_mg
  FROM scheduledvisit v JOIN subjectstatus s ON s.subject_id = v.subject_id
 WHERE v.site_id IN :sites AND v.done = {no} AND v.window_start <= :day AND v.tentative = {no}
UNION ALL
SELECT s.code, v.visit_code, v.target, v.window_start, v.window_end, v.dose_mg
  FROM scheduledvisit v JOIN subjectstatus s ON s.subject_id = v.subject_id
 WHERE v.site_id IN :sites AND v.target BETWEEN :day AND :day1_until
   AND v.day1_cycle IS NOT NULL AND v.done = {no} AND v.tentative = {no}
   AND NOT EXISTS (SELECT 1 FROM day1check c
                    WHERE c.subject_id = v.subject_id AND c.cycle = v.day1_cycle AND c.met = {yes}
                      AND c.id = (SELECT max(c2.id) FROM day1check c2
                                   WHERE c2.subject_id = c.subject_id AND c2.cycle = c.cycle))
UNION ALL
SELECT s.code, NULL, max(m.dose_date), NULL, NULL, min(m.dose_mg)
  FROM misseddose m JOIN subjectstatus s ON s.subject_id = m.subject_id
 WHERE m.site_id IN :sites AND m.dose_date BETWEEN :missed_from AND :day
 GROUP BY s.code
UNION ALL
SELECT code, NULL, hold_start, NULL, NULL, dose_mg FROM subjectstatus
 WHERE site_id IN :sites AND hold_start <= :day AND (hold_end IS NULL OR hold_end > :day)
UNION ALL
SELECT code, NULL, first_unrecorded_dose, NULL, NULL, dose_mg FROM subjectstatus
 WHERE site_id IN :sites AND first_unrecorded_dose < :unrecorded_before
UNION ALL
SELECT s.code, NULL, NULL, NULL, NULL, s.dose_mg
  FROM standingitem i JOIN subjectstatus s ON s.subject_id = i.subject_id
 WHERE i.site_id IN :sites AND (i.shown_from IS NULL OR i.shown_from <= :day)
   AND (i.shown_until IS NULL OR i.shown_until >= :day)
UNION ALL
SELECT s.code, NULL, NULL, NULL, NULL, NULL
  FROM void r JOIN subjectstatus s ON s.subject_id = r.subject_id
 WHERE s.site_id IN :sites
   AND EXISTS (SELECT 1 FROM signature g
                WHERE g.record_kind = r.record_kind AND g.record_id = r.record_id)
   AND NOT EXISTS (SELECT 1 FROM signature g WHERE g.record_kind = 'void' AND g.record_id = r.id)
""" + "".join(
    f"""UNION ALL
SELECT s.code, NULL, NULL, NULL, NULL, NULL
  FROM {table} r JOIN subjectstatus s ON s.subject_id = r.subject_id
 WHERE s.site_id IN :sites
   AND NOT EXISTS (SELECT 1 FROM signature g WHERE g.record_kind = '{kind}' AND g.record_id = r.id)
   AND NOT EXISTS (SELECT 1 FROM void v WHERE v.record_kind = '{kind}' AND v.record_id = r.id)
"""
    for kind, table in SIGNED_TABLES.items()
)
"""The decisions awaiting a signature (``signatures.records.unsigned_records``) are the last
parts: each signable record neither signed nor voided, and each void of a signed record not
itself signed."""


VARIANTS = 12
"""Histories per C1D1 offset: subjects sharing an offset and a variant share a plan."""


def _history(rnd: random.Random, plan: core.Plan) -> core.History:
    """Doses taken up to a few days ago (a diary not yet entered for some), a missed dose now
    and then, visits done on their target day once it is past (2 % never recorded: overdue
    once their window closes), some open holds."""
    entered_until = TODAY - timedelta(days=rnd.choice((1, 1, 1, 2, 5)))
    doses = []
    for i, slot in enumerate(plan.doses()):
        if slot.date >= entered_until:
            break
        doses.append(core.DoseOutcome(id=i + 1, on=slot.date, taken=rnd.random() > 0.03))
    visits = [
        core.VisitDone(id=i + 1, code=v.code, on=v.target)
        for i, v in enumerate(plan.visits)
        if v.target < TODAY and rnd.random() > 0.02
    ]
    holds: tuple[core.HoldStart, ...] = ()
    if doses and rnd.random() < 0.04:
        start = doses[-1].on + timedelta(days=1)
        holds = (core.HoldStart(id=1, on=start, reason="grade 3 hypertension"),)
    return core.History(doses=tuple(doses), visits=tuple(visits), holds=holds)


def _seed(url: str, count: int, site_count: int) -> tuple[float, list[Site]]:
    """Seconds taken and the sites (subjects are dealt to them in turn)."""
    started = time.perf_counter()
    engine = get_engine(url)
    settings = Settings(database_url=url, user="bench")
    with unit_of_work(engine, "bench", FixedClock(NOW)) as unit:
        load_shipped_protocols(unit)
        home = ensure_default_site(unit, settings)
        for n in range(2, site_count + 1):
            unit.session.add(Site(code=f"S{n:02d}", name=f"Site {n}", time_zone=home.time_zone))
        unit.session.flush()
        sites = list(unit.session.exec(select(Site).order_by(col(Site.id))))
        version = unit.session.exec(
            select(ProtocolVersion).where(ProtocolVersion.protocol_id == "NCT03945799")
        ).one()
    protocol = protocol_of(version)
    rnd = random.Random(6)
    zone = ZoneInfo(home.time_zone)
    subjects: list[dict[str, Any]] = []
    for n in range(count):
        c1d1 = TODAY - timedelta(days=rnd.randrange(-7, 175))
        subjects.append(
            {
                "code": f"B-{n:05d}",
                "site_id": sites[n % len(sites)].id,
                "protocol_version_id": version.id,
                "c1d1": c1d1,
                "surgery_date": c1d1 - timedelta(days=35),
                "time_zone": home.time_zone,
                "dose_time": clock_time(8, 0),
                "enrolled_at": NOW,
                "enrolled_by": "bench",
            }
        )
    with Session(engine) as session:
        session.execute(insert(Subject.__table__), subjects)  # type: ignore[attr-defined]
        session.commit()
        ids = {code: sid for code, sid in session.execute(text("SELECT code, id FROM subject"))}
        rows = Rows()
        checks = []
        plans: dict[tuple[date, int], tuple[core.Plan, Rows]] = {}
        for row in subjects:
            key = (row["c1d1"], rnd.randrange(VARIANTS))
            if key not in plans:
                anchors = core.Anchors(
                    subject="B", c1d1=row["c1d1"], surgery=row["surgery_date"], time_zone=zone
                )
                blank = core.build_plan(protocol, anchors, core.History(), TODAY)
                history = _history(random.Random(key[0].toordinal() * VARIANTS + key[1]), blank)
                plan = core.build_plan(protocol, anchors, history, TODAY)
                plans[key] = (plan, rows_for(plan, 0, 0, "", Records()))
            plan, template = plans[key]
            owner = {"subject_id": ids[row["code"]], "site_id": row["site_id"]}
            for table_rows, values in zip(
                (rows.visits, rows.statuses, rows.missed, rows.standing),
                (template.visits, template.statuses, template.missed, template.standing),
                strict=True,
            ):
                table_rows += [v | owner for v in values]
            rows.statuses[-1]["code"] = row["code"]
            for visit in rows.visits[len(rows.visits) - len(template.visits) :]:
                visit["code"] = row["code"]
            upcoming = [c for c in plan.cycles if TODAY <= c.day1 <= TODAY + timedelta(days=3)]
            if upcoming and rnd.random() < 0.5:
                checks.append(
                    {
                        "subject_id": owner["subject_id"],
                        "cycle": upcoming[0].number,
                        "assessed_on": TODAY,
                        "met": rnd.random() < 0.8,
                        "reason": "ANC 1.2",
                        "recorded_at": NOW,
                        "recorded_by": "bench",
                    }
                )
        insert_rows(session, rows)
        if checks:
            session.execute(insert(Day1Check.__table__), checks)  # type: ignore[attr-defined]
        session.commit()
    # Planner statistics and (PostgreSQL) the visibility map that lets the covering indexes
    # answer alone, as autovacuum keeps them on a live database.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(
            text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        )
    return time.perf_counter() - started, sites


def _timed(rounds: int, run: Callable[[], int]) -> tuple[list[float], int]:
    for _ in range(3):
        run()
    times = []
    found = 0
    for _ in range(rounds):
        started = time.perf_counter()
        found = run()
        times.append((time.perf_counter() - started) * 1000)
    return times, found


def _figures(label: str, times: list[float], found: int) -> str:
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 20 else max(times)
    median = statistics.median(times)
    return (
        f"  {label:<38} median {median:7.2f} ms   p95 {p95:7.2f} ms   min {min(times):7.2f} ms"
        f"   ({found} rows)"
    )


def _floor(engine: Engine, sites: list[Site]) -> Callable[[], int]:
    """The hand-written query for the sites (all share the day here, as the service groups
    them) through one raw DB-API cursor: no objects built, dates left as the driver returns
    them. Booleans are literals, as SQLAlchemy writes them, so the partial indexes apply."""
    raw = engine.raw_connection()
    no, yes = ("0", "1") if engine.dialect.name == "sqlite" else ("false", "true")
    params = {
        "sites": [site.id for site in sites],
        "day": TODAY,
        "day1_until": TODAY + timedelta(days=3),
        "missed_from": TODAY - timedelta(days=2),
        "unrecorded_before": TODAY - timedelta(days=7),
    }
    compiled = (
        text(FLOOR_SQL.format(no=no, yes=yes))
        .bindparams(bindparam("sites", expanding=True), **params)
        .compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    )
    positional = compiled.positiontup or []
    values: Any = [compiled.params[name] for name in positional] if positional else compiled.params
    statements = [(str(compiled), values)]

    def run() -> int:
        found = 0
        cursor = raw.cursor()
        for statement, values in statements:
            cursor.execute(statement, values)
            found += len(cursor.fetchall())
        cursor.close()
        return found

    return run


def _measure(url: str, count: int, site_count: int, rounds: int) -> None:
    seconds, sites = _seed(url, count, site_count)
    engine = get_engine(url)
    freeze_startup_heap()  # as `dosing serve` does once its app is built
    with Session(engine) as session:
        visits = session.execute(text("SELECT count(*) FROM scheduledvisit")).scalar_one()
        one = session.get(Site, sites[0].id)
        assert one is not None

        def one_site() -> int:
            return len(site_worklist(session, NOW, one, TODAY).items)

        def one_site_with_probe() -> int:
            lists = worklists(session, NOW, site_code=one.code, on=TODAY)
            return sum(len(w.items) for w in lists)

        def every_site() -> int:
            return sum(len(w.items) for w in worklists(session, NOW, on=TODAY))

        def every_site_first() -> int:
            lists = worklists(session, NOW, on=TODAY, first=GROUP_ROWS)
            return sum(len(w.items) for w in lists)

        figures = [
            ("one site: site_worklist (service)", *_timed(rounds, one_site)),
            ("one site: worklists (+ backfill probe)", *_timed(rounds, one_site_with_probe)),
            ("one site: hand-written SQL (floor)", *_timed(rounds, _floor(engine, sites[:1]))),
            ("every site: worklists (service)", *_timed(rounds, every_site)),
            ("every site: hand-written SQL (floor)", *_timed(rounds, _floor(engine, sites))),
            (
                f"every site: worklists(first={GROUP_ROWS}) (page)",
                *_timed(rounds, every_site_first),
            ),
        ]
    print(
        f"{engine.dialect.name}: {count} active subjects at {site_count} sites "
        f"({count // site_count} per site), {visits} visit rows, seeded in {seconds:.1f} s"
    )
    for label, times, found in figures:
        print(_figures(label, times, found))
    assert figures[0][2] == figures[1][2] == figures[2][2], "one site: row counts differ"
    assert figures[3][2] == figures[4][2], "every site: row counts differ"


@contextmanager
def _sqlite() -> Iterator[str]:
    with TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        yield url
        get_engine(url).dispose()


@contextmanager
def _postgres() -> Iterator[str]:
    admin = create_engine(normalise_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"dosing_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(POSTGRES_ADMIN_URL)).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        upgrade(rendered)
        yield rendered
    finally:
        get_engine(rendered).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    bootstrap()  # the seeding's units of work refresh the derived rows, as the app's do
    if args.backend in ("sqlite", "both"):
        with _sqlite() as url:
            _measure(url, args.subjects, args.sites, args.rounds)
    if args.backend in ("postgres", "both"):
        with _postgres() as url:
            _measure(url, args.subjects, args.sites, args.rounds)


if __name__ == "__main__":
    main()
