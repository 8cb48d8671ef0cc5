"""Engines and sessions: one way to open a database session, one transaction per command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Date, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, create_engine

from scheduler.clock import local_today
from scheduler.errors import Conflict, StorageUnavailable, WriteConflict
from scheduler.models.constraints import unique_rule_of

_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}
"""PostgreSQL's serialization failure, deadlock and lock not available: another writer won."""


def normalise_url(url: str) -> str:
    """Accept the usual PostgreSQL spellings and always drive them with psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class local_day(FunctionElement[date]):
    """``local_day(instant, zone)``: the calendar day a stored UTC instant falls on in a time
    zone, in SQL, so a list dated by the site's day can be ranked by the database. PostgreSQL
    knows time zones; SQLite is given the same function in Python (``_sqlite_local_day``)."""

    type = Date()
    name = "local_day"
    inherit_cache = True


@compiles(local_day)
def _local_day(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"local_day({compiler.process(element.clauses, **kw)})"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    instant, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(timezone({zone}, {instant}) AS DATE)"


def _sqlite_local_day(instant: str | None, zone: str | None) -> str | None:
    """SQLite keeps an instant as its naive UTC text (``UtcDateTime``)."""
    if instant is None or zone is None:
        return None
    return local_today(datetime.fromisoformat(instant).replace(tzinfo=UTC), zone).isoformat()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own BEGIN is deferred; ``_sqlite_begin`` says which kind each transaction is.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
    dbapi_connection.create_function("local_day", 2, _sqlite_local_day, deterministic=True)


def _sqlite_begin(connection: Connection) -> None:
    """A unit of work takes SQLite's write lock when it begins, not at its first write: two
    writers that both read "no dose recorded yet" and then both insert would otherwise be
    possible, and an upgrade from a read lock to a write lock can fail without waiting."""
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return  # the caller begins its own transactions (the reminder dispatcher's claims)
    begin = "BEGIN IMMEDIATE" if options.get("write_transaction") else "BEGIN"
    # On the driver's connection: the application's statements (and their counts) stay as they were.
    connection.connection.dbapi_connection.execute(begin)  # type: ignore[union-attr]


@lru_cache(maxsize=16)
def get_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _refusal(error: DBAPIError) -> Exception:
    """What a person is told when the database refused a unit's writes: nothing was stored."""
    if isinstance(error, IntegrityError):
        rule = unique_rule_of(error)
        if rule is not None:
            return Conflict(rule.field, rule.reason)
        return Conflict("record", "clashes with a record stored at the same moment; look again")
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES or "database is locked" in str(error.orig):
        return WriteConflict(
            "record", "someone else changed this subject at the same moment; try again"
        )
    return StorageUnavailable(f"the database did not store the change: {error.orig}")


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits together at the end, or not at all. A refusal by the
    database (at a write or at the commit) becomes one of the project's errors, so nobody is
    told "recorded" for a row that is not stored."""
    writer = engine.execution_options(write_transaction=True)
    try:
        with Session(writer, expire_on_commit=False) as session, session.begin():
            yield session
    except DBAPIError as error:
        raise _refusal(error) from error


@lru_cache(maxsize=16)
def _autocommit(engine: Engine) -> Engine:
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def forget_engines() -> None:
    """Drop this process's engines: a fork of `dosing resident` makes its own from the client's
    settings, and a pooled connection made before a fork must never be used on both sides."""
    get_engine.cache_clear()
    _autocommit.cache_clear()


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A session that only reads: on SQLite it begins without the write lock, so a reader never
    queues behind a writer's unit of work (WAL lets both run). Nothing it changes is kept: it
    ends in a rollback, and nothing is flushed before that (so ``session.dirty`` still shows
    what a caller would have to write in a transaction of its own). On PostgreSQL it runs
    without a transaction: at READ COMMITTED each statement sees what was committed when it
    began, in a transaction or not, and a request's token check then costs one round trip,
    not three (BEGIN, the query, ROLLBACK)."""
    if engine.dialect.name == "postgresql":
        engine = _autocommit(engine)
    with Session(engine, expire_on_commit=False, autoflush=False) as session:
        yield session
