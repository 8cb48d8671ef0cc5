"""Shared fixtures: shipped protocols, a fixed clock, and databases.

``db_url`` runs a test on a fresh SQLite file and on PostgreSQL. Migrating takes seconds, so each
test session (each xdist worker) migrates once: a SQLite test gets a copy of a migrated template
file, and PostgreSQL gets one database per worker, migrated once and emptied before each test
(deleting the rows and restarting the sequences is much faster here than creating a database
from a template, which PostgreSQL does with a checkpoint). Tests of the web app (those using
``web_app``) get the demo trial already seeded for their clock and settings: a second SQLite
template, or on PostgreSQL a copy of the seeded rows restored into the emptied tables.

Where no server answers, PostgreSQL cases are skipped with the reason; CI starts a server first,
and sets DOSING_REQUIRE_POSTGRES=1 so that a missing server fails instead of skipping.
"""

from __future__ import annotations

import os

# Staff password hashes: argon2's minimal cost under test (hashing is not what the tests check;
# tests/staff/test_accounts.py still checks argon2id hashes). Subprocesses inherit it.
os.environ.setdefault("DOSING_PASSWORD_HASH_COST", "minimal")

import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fixed_clock import FIXED_NOW
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from scheduler.app.bootstrap import bootstrap
from scheduler.app.demo import seed_demo
from scheduler.clock import FixedClock
from scheduler.db import get_engine, normalise_url
from scheduler.kernel.protocol_versions import load_shipped_protocols
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.unit import unit_of_work
from scheduler.migrate import upgrade
from scheduler.protocols import Protocol, load_protocol, shipped_protocol_files
from scheduler.settings import Settings

bootstrap()

pytest_plugins = ["web_fixtures"]

POSTGRES_ADMIN_URL = os.environ.get(
    "DOSING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
"""This process's name under pytest-xdist (gw0, gw1, ...): its databases carry it."""


def _protocol(name: str) -> Protocol:
    return load_protocol(next(p for p in shipped_protocol_files() if p.name == name))


@pytest.fixture(scope="session")
def anlotinib() -> Protocol:
    """The shipped NCT03945799 protocol."""
    return _protocol("nct03945799.toml")


@pytest.fixture(scope="session")
def capecitabine() -> Protocol:
    """The shipped second regimen (twice daily, 6 cycles)."""
    return _protocol("example_capecitabine.toml")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FIXED_NOW)


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://", user="tester")


# --- What a test's database starts with ---------------------------------------------------------

DemoSeed = tuple[FixedClock, Settings]
"""The clock and settings the demo trial is seeded with, or None for a migrated, empty database."""


def set_up(engine: Engine, clock: FixedClock, settings: Settings) -> None:
    """What ``units`` does first: the shipped protocols and the default site."""
    with unit_of_work(engine, "setup", clock) as unit:
        load_shipped_protocols(unit)
        ensure_default_site(unit, settings)


def seed_demo_trial(engine: Engine, seed: DemoSeed) -> None:
    """Exactly what ``units`` then ``web_app`` write into an empty database."""
    clock, settings = seed
    set_up(engine, clock, settings)
    with unit_of_work(engine, "nurse", clock) as unit:
        seed_demo(unit, ensure_default_site(unit, settings))


def _seed_key(seed: DemoSeed | None) -> str:
    if seed is None:
        return "migrated"
    clock, settings = seed
    return f"demo {clock.now().isoformat()} {settings.model_dump_json()}"


def _demo_seed_of(request: pytest.FixtureRequest) -> DemoSeed | None:
    """The demo seed a web test's database can start with; None for other tests, and for a
    clock that is not a FixedClock (then ``web_app`` seeds as the test runs)."""
    if "web_app" not in request.fixturenames:
        return None
    clock = request.getfixturevalue("clock")
    if type(clock) is not FixedClock:
        return None
    return clock, request.getfixturevalue("settings")


class SqliteTemplates:
    """Template files of this session, migrated (and seeded) once each, copied per test."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[str, Path] = {}

    def file(self, seed: DemoSeed | None) -> Path:
        key = _seed_key(seed)
        if key not in self.files:
            path = self.directory / f"template-{len(self.files)}.db"
            url = f"sqlite:///{path}"
            upgrade(url)
            engine = get_engine(url)
            if seed is not None:
                seed_demo_trial(engine, seed)
            with engine.connect() as connection:  # everything in the file, nothing in a -wal
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            self.files[key] = path
        return self.files[key]

    def copy(self, seed: DemoSeed | None, path: Path) -> str:
        shutil.copyfile(self.file(seed), path)
        return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


class PostgresDatabase:
    """This worker's PostgreSQL database, migrated once. ``reset(seed)`` empties it (rows gone,
    sequences restarted, as in a fresh database) and, for a demo seed, restores that seed's rows
    from a snapshot schema taken the first time the seed was asked for. Tables and columns are
    read again at each reset: a migration test may downgrade and upgrade this database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = get_engine(url)
        self.snapshots: dict[str, tuple[str, dict[str, str], list[tuple[str, int, bool]]]] = {}

    @staticmethod
    def _tables(connection: Connection, schema: str) -> dict[str, str]:
        """Each table of ``schema`` (but alembic's) with its quoted column list."""
        columns = connection.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = :schema AND table_name <> 'alembic_version' "
                "ORDER BY table_name, ordinal_position"
            ),
            {"schema": schema},
        ).all()
        tables: dict[str, list[str]] = {}
        for table, column in columns:
            tables.setdefault(table, []).append(f'"{column}"')
        return {table: ", ".join(names) for table, names in tables.items()}

    @staticmethod
    def _sequences(connection: Connection) -> list[tuple[str, int]]:
        return [
            (name, int(start))
            for name, start in connection.execute(
                text(
                    "SELECT sequencename, start_value FROM pg_sequences "
                    "WHERE schemaname = 'public' ORDER BY sequencename"
                )
            ).all()
        ]

    def _empty(self, connection: Connection) -> None:
        """TRUNCATE (fresh heaps: rows come back in insertion order, as tests expect) each
        table that has ever held a row since its last truncation, then restart every
        sequence. Truncating only those makes this a fraction of truncating all."""
        execute = connection.exec_driver_sql
        execute("SET LOCAL session_replication_role = replica")  # the restore ignores FK order
        used = connection.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "AND c.relname <> 'alembic_version' AND pg_relation_size(c.oid) > 0"
            )
        ).scalars()
        names = ", ".join(f'public."{table}"' for table in used)
        if names:
            execute(f"TRUNCATE {names} CASCADE")
        for name, start in self._sequences(connection):
            execute(f"SELECT setval('public.\"{name}\"', {start}, false)")

    def reset(self, seed: DemoSeed | None) -> None:
        key = _seed_key(seed)
        if seed is not None and key not in self.snapshots:
            self._snapshot(key, seed)
        with self.engine.begin() as connection:
            self._empty(connection)
            if seed is None:
                return
            schema, tables, sequences = self.snapshots[key]
            for table, columns in tables.items():
                connection.exec_driver_sql(
                    f'INSERT INTO public."{table}" ({columns}) '
                    f'SELECT {columns} FROM {schema}."{table}"'
                )
            for name, value, called in sequences:
                connection.exec_driver_sql(
                    f"SELECT setval('public.\"{name}\"', {value}, {str(called).lower()})"
                )

    def _snapshot(self, key: str, seed: DemoSeed) -> None:
        self.reset(None)
        seed_demo_trial(self.engine, seed)
        schema = f"snapshot_{len(self.snapshots)}"
        sequences = []
        with self.engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            for table in self._tables(connection, "public"):
                connection.exec_driver_sql(
                    f'CREATE TABLE {schema}."{table}" AS SELECT * FROM public."{table}"'
                )
            for name, _ in self._sequences(connection):
                value, called = connection.exec_driver_sql(
                    f'SELECT last_value, is_called FROM public."{name}"'
                ).one()
                sequences.append((name, int(value), bool(called)))
            tables = self._tables(connection, schema)
        self.snapshots[key] = (schema, tables, sequences)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    admin = normalise_url(POSTGRES_ADMIN_URL)
    name = f"dosing_test_{WORKER}_{uuid.uuid4().hex[:10]}"
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
            # A test database needs no durability: commits need not wait for the WAL flush.
            connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except Exception as exc:  # no server here
        if os.environ.get("DOSING_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {admin}: {type(exc).__name__}")
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield PostgresDatabase(url)
    get_engine(url).dispose()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_templates: SqliteTemplates
) -> Iterator[str]:
    """A migrated, empty database: a new SQLite file, or the worker's PostgreSQL database
    emptied. For a test of the web app, the demo trial is in it already (see ``web_app``)."""
    seed = _demo_seed_of(request)
    if request.param == "sqlite":
        url = sqlite_templates.copy(seed, tmp_path / "test.db")
        yield url
        get_engine(url).dispose()
        return
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    database.reset(seed)
    yield database.url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_templates: SqliteTemplates) -> Iterator[str]:
    """A migrated SQLite file only, for tests that need no second backend."""
    url = sqlite_templates.copy(None, tmp_path / "test.db")
    yield url
    get_engine(url).dispose()


@pytest.fixture
def units(db_url: str, clock: FixedClock, settings: Settings) -> Callable[..., object]:
    """``with units() as unit:`` opens one committed unit of work on the test database, with
    the shipped protocols and the default site loaded."""
    engine = get_engine(db_url)
    set_up(engine, clock, settings)

    def open_unit(actor: str = "nurse", now: datetime | None = None) -> object:
        return unit_of_work(engine, actor, FixedClock(now) if now else clock)

    return open_unit


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show what the reminder crash tests counted (duplicates, kills) even on a passing, quiet
    run: the documented window's duplicates are a figure to watch, not only a bound to assert.
    (Here, not in tests/reminders/conftest.py: under xdist only the root conftest is loaded by
    the process that writes the summary; the workers send it the reports.)"""
    lines = [
        f"{report.nodeid}: {value}"
        for outcome in ("passed", "failed")
        for report in terminalreporter.getreports(outcome)
        for name, value in report.user_properties
        if name == "reminder_report"
    ]
    if lines:
        terminalreporter.section("reminder crash tests")
        for line in lines:
            terminalreporter.write_line(line)
