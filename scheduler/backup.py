"""Backing up a SQLite database and restoring it, with SQLite's online backup API.

The backup API copies the database as one consistent snapshot while the application keeps
running (a writer waits for the copy, a reader does not), which a file copy does not guarantee
in WAL mode. PostgreSQL databases are backed up with PostgreSQL's own ``pg_dump`` and
``pg_restore``, as README.md ("Backups") says; this module refuses them with that advice.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from scheduler.db import normalise_url
from scheduler.errors import InputError

PG_ADVICE = (
    "a PostgreSQL database is backed up with pg_dump and restored with pg_restore "
    "(README.md, Backups)"
)


def sqlite_file(url: str) -> Path:
    """The file of a SQLite URL; any other database is refused with the advice for it."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise InputError("db", PG_ADVICE)
    if not parsed.database or parsed.database == ":memory:":
        raise InputError("db", "an in-memory database has nothing to back up or restore into")
    return Path(parsed.database)


def _tables(connection: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
    ]


def _checked(connection: sqlite3.Connection, field: str, what: str) -> None:
    """Refuse a file that is not a sound dosing database: SQLite's own integrity check, and the
    Alembic version table every dosing database has."""
    try:
        (result,) = connection.execute("PRAGMA integrity_check").fetchone()
        tables = _tables(connection)
    except sqlite3.DatabaseError as exc:
        raise InputError(field, f"{what} is not a SQLite database: {exc}") from None
    if result != "ok":
        raise InputError(field, f"{what} fails SQLite's integrity check: {result}")
    if "alembic_version" not in tables:
        raise InputError(field, f"{what} is not a dosing database (no schema version)")


def backup(url: str, target: Path) -> None:
    """Copy the database at ``url`` to the new file ``target`` and check the copy."""
    source = sqlite_file(url)
    if not source.is_file():
        raise InputError("db", f"there is no database at {source}")
    if target.exists():
        raise InputError("file", f"{target} exists already: back up to a new file")
    if not target.parent.is_dir():
        raise InputError("file", f"{target.parent} is not a folder to back up into")
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)  # all pages in one step: one snapshot, never a mix of two moments
        _checked(copy, "file", str(target))


def restore(source: Path, url: str) -> None:
    """Copy the backup ``source`` into the database at ``url``, which must be empty (a new file,
    or one without tables): a restore never overwrites records."""
    target = sqlite_file(url)
    if not source.is_file():
        raise InputError("file", f"there is no file {source}")
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as backed_up:
        _checked(backed_up, "file", str(source))
        with closing(sqlite3.connect(target)) as fresh:
            if _tables(fresh):
                raise InputError("db", f"{target} is not empty: restore into a new database file")
            backed_up.backup(fresh)
