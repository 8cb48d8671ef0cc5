"""Shared fixtures: shipped protocols, a fixed clock, and databases.

``db_url`` runs a test on a fresh SQLite file and on PostgreSQL. PostgreSQL gets one fresh
database per test session (migrated once) and every table is emptied after each test. Where no
server answers, PostgreSQL cases are skipped with the reason; CI starts a server first, and sets
DOSING_REQUIRE_POSTGRES=1 so that a missing server fails instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scheduler.clock import FixedClock
from scheduler.db import get_engine, normalise_url
from scheduler.migrate import upgrade
from scheduler.protocols import Protocol, load_protocol, shipped_protocol_files
from scheduler.services.protocols import load_shipped_protocols
from scheduler.services.sites import ensure_default_site
from scheduler.services.unit import unit_of_work
from scheduler.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get(
    "DOSING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
FIXED_NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


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


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    admin = normalise_url(POSTGRES_ADMIN_URL)
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            name = f"dosing_test_{uuid.uuid4().hex[:10]}"
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server here
        if os.environ.get("DOSING_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {admin}: {type(exc).__name__}")
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    get_engine(url).dispose()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _empty_postgres(url: str) -> None:
    engine = get_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
        yield url
        get_engine(url).dispose()
        return
    url = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    yield url
    _empty_postgres(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite file only, for tests that need no second backend."""
    url = f"sqlite:///{tmp_path / 'test.db'}"
    upgrade(url)
    yield url
    get_engine(url).dispose()


@pytest.fixture
def units(db_url: str, clock: FixedClock, settings: Settings) -> Callable[..., object]:
    """``with units() as unit:`` opens one committed unit of work on the test database, with
    the shipped protocols and the default site loaded."""
    engine = get_engine(db_url)
    with unit_of_work(engine, "setup", clock) as unit:
        load_shipped_protocols(unit)
        ensure_default_site(unit, settings)

    def open_unit(actor: str = "nurse", now: datetime | None = None) -> object:
        return unit_of_work(engine, actor, FixedClock(now) if now else clock)

    return open_unit
