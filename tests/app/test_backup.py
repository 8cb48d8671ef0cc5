"""Backups round-trip a busy database: taken while a writer is in the middle of a transaction,
restored into an empty database, every table comes back as it was when the backup began, with
its triggers. SQLite through `dosing backup` and `dosing restore`; PostgreSQL through the
pg_dump and pg_restore commands README.md gives."""

import shutil
import subprocess
import threading
import uuid
from datetime import date

import pytest
from cli_runner import run
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from scheduler.app.demo import DEMO_CODES
from scheduler.db import get_engine, normalise_url
from scheduler.feeds.serving import subject_calendar
from scheduler.reminders.outbox import set_preference
from scheduler.subjects.doses import record_dose
from scheduler.subjects.treatment import hold


def _every_row(url: str) -> dict[str, list[tuple]]:
    """Each table of the public schema (the application's) with its rows, in a stable order."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            tables = MetaData()
            tables.reflect(connection)
            return {
                name: sorted(map(tuple, connection.execute(select(table)).all()), key=repr)
                for name, table in sorted(tables.tables.items())
            }
    finally:
        engine.dispose()


def _busy(units, db_url, clock, settings) -> None:
    """The demo trial, with reminders queued, a hold and each subject's calendar served (its
    event identities stored): rows in nearly every table."""
    with units() as unit:
        set_preference(unit, "DEMO-002", opted_in=True, channel="webhook", address="+8613800000001")
        set_preference(unit, "DEMO-003", opted_in=True, channel="email", address="p3@example.org")
        hold(unit, "DEMO-002", start="2026-03-02", reason="grade 3 hypertension")
    for code in DEMO_CODES:
        subject_calendar(get_engine(db_url), code, clock, settings)


class WriterInFlight:
    """A unit of work that has written and not committed while the backup runs."""

    def __init__(self, units) -> None:
        self.written, self.finish = threading.Event(), threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._write, args=(units,))

    def _write(self, units) -> None:
        try:
            with units() as unit:
                record_dose(unit, "DEMO-002", on=date(2026, 2, 28), taken=False)
                unit.session.flush()
                self.written.set()
                self.finish.wait(30)
        except BaseException as error:  # reported by the test
            self.errors.append(error)
            self.written.set()

    def __enter__(self) -> "WriterInFlight":
        self.thread.start()
        assert self.written.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish.set()
        self.thread.join()


def _pg_url(url: str, database: str | None = None) -> str:
    """The URL as libpq (pg_dump, pg_restore) reads it."""
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _backup_and_restore(db_url: str, tmp_path, capsys) -> str:
    """Back up ``db_url`` as README.md says, restore into a new empty database; its URL."""
    if db_url.startswith("sqlite"):
        file, restored = tmp_path / "backup.db", f"sqlite:///{tmp_path / 'restored.db'}"
        assert run(capsys, "backup", str(file), "--db", db_url)[0] == 0
        code, _, err = run(capsys, "restore", str(file), "--db", restored)
        assert (code, err) == (0, ""), err
        return restored
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore are not installed (Debian: postgresql-client)")
    file = tmp_path / "dosing.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={file}", _pg_url(db_url)], check=True)
    return file.as_posix()


@pytest.fixture
def empty_postgres_database(postgres_database):
    """A new, empty database on the test server, dropped afterwards; its URL."""
    name = f"dosing_restore_{uuid.uuid4().hex[:10]}"
    server = make_url(postgres_database.url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_taken_while_a_writer_is_in_flight_restores_every_table(
    web_app, units, db_url, clock, settings, tmp_path, capsys, request
):
    _busy(units, db_url, clock, settings)
    before = _every_row(db_url)
    with WriterInFlight(units) as writer:
        backup = _backup_and_restore(db_url, tmp_path, capsys)
    assert writer.errors == []
    if db_url.startswith("sqlite"):
        restored = backup
    else:
        restored = request.getfixturevalue("empty_postgres_database")
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={_pg_url(restored)}",
                backup,
            ],
            check=True,
        )
    after = _every_row(restored)
    assert after.keys() == before.keys()
    assert [t for t in before if after[t] != before[t]] == []
    assert sum(len(rows) for rows in after.values()) > 1000
    assert _every_row(db_url) != before  # the writer committed after the backup began
    engine = create_engine(normalise_url(restored))
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM doserecord")
    finally:
        engine.dispose()
    assert run(capsys, "audit", "verify", "--db", restored)[0] == 0


def test_restore_refuses_a_database_that_is_not_empty_and_a_file_that_is_not_a_backup(
    sqlite_url, tmp_path, capsys
):
    file = tmp_path / "backup.db"
    assert run(capsys, "backup", str(file), "--db", sqlite_url)[0] == 0
    code, _, err = run(capsys, "backup", str(file), "--db", sqlite_url)
    assert code == 2 and err.startswith("error: file:") and "exists already" in err

    code, _, err = run(capsys, "restore", str(file), "--db", sqlite_url)
    assert code == 2 and err.startswith("error: db:") and "not empty" in err

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("not a database" * 100)
    target = tmp_path / "new.db"
    code, _, err = run(capsys, "restore", str(not_a_backup), "--db", f"sqlite:///{target}")
    assert code == 2 and err.startswith("error: file:") and not target.exists()


def test_backup_of_a_postgresql_database_points_to_pg_dump(capsys, tmp_path):
    code, _, err = run(
        capsys, "backup", str(tmp_path / "b"), "--db", "postgresql://nobody@127.0.0.1/none"
    )
    assert code == 2 and "pg_dump" in err and not (tmp_path / "b").exists()
