"""The audit trail and the clinical records are append-only in the database itself, not only by
convention, and the audit trail is hash-chained: an edit made outside the application (with the
triggers disabled) is found by ``dosing audit verify``, which names the first broken entry."""

import itertools
import threading
from datetime import UTC, date, datetime, timedelta

from alembic import command
from cli_runner import run
from eligible import make_eligible
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

from scheduler.db import get_engine
from scheduler.kernel.audit_chain import GENESIS, entry_hash, verify_chain
from scheduler.kernel.unit import unit_of_work
from scheduler.migrate import alembic_config, upgrade
from scheduler.models import AuditEntry, VisitRecord
from scheduler.pharmacy.accountability import (
    confirm_day1,
    dispense,
    prepare,
    record_return,
    review,
)
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.corrections import void_record
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import change_anchor, enroll
from scheduler.subjects.treatment import discontinue, hold, resume
from scheduler.subjects.visits import record_visit

APPEND_ONLY = (
    "auditentry",
    "doserecord",
    "hold",
    "resumption",
    "discontinuation",
    "adverseevent",
    "visitrecord",
    "day1check",
    "void",
    "dispensing",
    "drugreturn",
    "reconciliationreview",
    "preparation",
)
C1D1 = date(2026, 2, 2)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)


def _a_full_record(units) -> None:
    """S-001 with at least one row in every append-only table."""
    with units(now=_at(C1D1 - timedelta(days=5))) as unit:
        enroll(unit, "S-001", c1d1=C1D1, surgery="2026-01-05", site_code="ZJU1")
        make_eligible(unit, "S-001", on=C1D1 - timedelta(days=5))
        prepare(unit, "S-001", cycle=1)
    with units("pharmacist", now=_at(C1D1)) as unit:
        confirm_day1(unit, "S-001", cycle=1, met=True)
        dispense(
            unit, "S-001", cycle=1, on=C1D1, strength=12, count=14, lot="AN1", expiry="2027-06-30"
        )
    with units(now=_at(C1D1 + timedelta(days=4))) as unit:
        for n in range(3):
            record_dose(unit, "S-001", on=C1D1 + timedelta(days=n), taken=True, at="08:00")
        visit = record_visit(unit, "S-001", "C1D1", on=C1D1)
        event = record_adverse_event(
            unit, "S-001", term="hypertension", grade=3, onset=C1D1 + timedelta(days=3)
        )
        hold(
            unit,
            "S-001",
            start=C1D1 + timedelta(days=3),
            reason="grade 3 hypertension",
            adverse_event_id=event.record.id,
        )
    with units(now=_at(C1D1 + timedelta(days=8))) as unit:
        resume(unit, "S-001", on=C1D1 + timedelta(days=8))
        visit_id = unit.session.exec(select(VisitRecord.id)).first()
        void_record(unit, "S-001", "visit", visit_id, "entered on the wrong day")
    with units("pharmacist", now=_at(C1D1 + timedelta(days=21))) as unit:
        record_return(unit, "S-001", cycle=1, on=C1D1 + timedelta(days=21), strength=12, count=0)
        review(unit, "S-001", cycle=1, note="capsules lost, confirmed with the patient")
    with units("investigator", now=_at(C1D1 + timedelta(days=22))) as unit:
        discontinue(unit, "S-001", on=C1D1 + timedelta(days=22), reason="relapse")
    assert visit is not None


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar_one()


def _refused(engine: Engine, statement: str) -> bool:
    """Whether the database refuses ``statement`` (rolled back either way)."""
    with engine.connect() as connection:
        try:
            connection.exec_driver_sql(statement)
        except DBAPIError as error:
            return "append-only" in str(error.orig)
        finally:
            connection.rollback()
    return False


def test_the_database_refuses_to_update_or_delete_the_audit_trail_and_the_records(db_url, units):
    _a_full_record(units)
    engine = get_engine(db_url)
    assert all(_count(engine, table) > 0 for table in APPEND_ONLY), {
        table: _count(engine, table) for table in APPEND_ONLY
    }
    attempts = {
        table: (
            _refused(engine, f'UPDATE "{table}" SET id = id'),
            _refused(engine, f'DELETE FROM "{table}"'),
        )
        for table in APPEND_ONLY
    }
    assert attempts == dict.fromkeys(APPEND_ONLY, (True, True))
    if engine.dialect.name == "postgresql":
        truncated = {
            table: _refused(engine, f'TRUNCATE "{table}" CASCADE') for table in APPEND_ONLY
        }
        assert truncated == dict.fromkeys(APPEND_ONLY, True)
    assert all(_count(engine, table) > 0 for table in APPEND_ONLY)


def _tamper(engine: Engine, statement: str) -> None:
    """Run ``statement`` as someone who bypasses the triggers: on PostgreSQL with the triggers
    disabled for the session (the table owner or a superuser can); on SQLite, where any writer of
    the file can, by dropping a trigger for the length of one transaction."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            connection.exec_driver_sql(statement)
            return
        sql = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'auditentry'"
        ).all()
        for name, _ in sql:
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        connection.exec_driver_sql(statement)
        for _, create in sql:
            connection.exec_driver_sql(create)


def _some_history(units) -> list[int]:
    with units() as unit:
        enroll(unit, "S-001", c1d1=C1D1, surgery="2026-01-05", site_code="ZJU1")
        for n in range(4):
            record_dose(unit, "S-001", on=C1D1 + timedelta(days=n), taken=True, at="08:00")
    with units("investigator") as unit:
        change_anchor(unit, "S-001", "dose_time", "09:00", reason="works nights")
    with units() as unit:
        return list(unit.session.exec(select(AuditEntry.id).order_by(col(AuditEntry.id))))


def test_verify_passes_on_an_untouched_trail_and_reports_its_head(db_url, units, capsys):
    _some_history(units)
    code, out, err = run(capsys, "audit", "verify", "--db", db_url)
    assert (code, err) == (0, "")
    with units() as unit:
        ids = list(unit.session.exec(select(AuditEntry.id)))
        head = unit.session.exec(
            select(AuditEntry.entry_hash).order_by(col(AuditEntry.id).desc())
        ).first()
        first = unit.session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).first()
    assert f"{len(ids)} entries" in out and head in out
    assert first is not None and first.prev_hash == GENESIS


def test_an_entry_edited_outside_the_application_is_named(db_url, units, capsys):
    ids = _some_history(units)
    edited = ids[3]
    _tamper(
        get_engine(db_url),
        f"UPDATE auditentry SET reason = 'typed in later' WHERE id = {edited}",
    )
    code, out, err = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 1
    assert f"entry {edited} " in err and "content was changed" in err
    assert out == ""


def test_an_entry_removed_outside_the_application_is_found_at_the_next_one(db_url, units, capsys):
    ids = _some_history(units)
    _tamper(get_engine(db_url), f"DELETE FROM auditentry WHERE id = {ids[2]}")
    code, out, _ = run(capsys, "audit", "verify", "--db", db_url, "--json")
    assert code == 1 and f'"entry_id": {ids[3]}' in out
    with units() as unit:
        report = verify_chain(unit.session)
    assert report.broken is not None and report.broken.entry_id == ids[3]
    assert report.entries == 2 and "link" in report.broken.problem


def test_an_entry_rewritten_with_a_recomputed_hash_breaks_the_link_of_the_next(db_url, units):
    ids = _some_history(units)
    with units() as unit:
        entry = unit.session.get(AuditEntry, ids[1])
        assert entry is not None
    forged = entry_hash(
        entry.prev_hash,
        at=entry.at,
        actor="someone else",
        action=entry.action,
        subject_id=entry.subject_id,
        entity=entry.entity,
        entity_id=entry.entity_id,
        old_value=entry.old_value,
        new_value=entry.new_value,
        reason=entry.reason,
    )
    _tamper(
        get_engine(db_url),
        f"UPDATE auditentry SET actor = 'someone else', entry_hash = '{forged}' "
        f"WHERE id = {ids[1]}",
    )
    with units() as unit:
        report = verify_chain(unit.session)
    assert report.broken is not None and report.broken.entry_id == ids[2]


def test_concurrent_writers_keep_one_chain(db_url, units):
    """Units committing at the same time from several threads (several connections): every
    entry links to the one before it in id order, none shares a predecessor."""
    with units() as unit:
        for n in range(4):
            enroll(unit, f"S-{n:03d}", c1d1=C1D1, surgery="2026-01-05", site_code="ZJU1")
    engine = get_engine(db_url)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write(n: int) -> None:
        try:
            start.wait()
            for day in range(6):
                with unit_of_work(engine, f"nurse{n}") as unit:
                    record_dose(unit, f"S-{n:03d}", on=C1D1 + timedelta(days=day), taken=True)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as session:
        report = verify_chain(session)
        total = session.exec(select(func.count()).select_from(AuditEntry)).one()
        links = session.exec(select(func.count(func.distinct(AuditEntry.prev_hash)))).one()
    assert report.broken is None and report.entries == total == links


def test_entries_written_before_the_upgrade_are_chained_by_it(db_url, units, capsys):
    _some_history(units)
    engine = get_engine(db_url)
    try:
        command.downgrade(alembic_config(db_url), "0013recordconstraints")  # before the chain
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO auditentry (at, actor, action, entity, reason) "
                "VALUES ('2026-03-02 05:00:00', 'old-version', 'subject.note', 'subject', "
                "'written by the version before the chain')"
            )
    finally:
        upgrade(db_url)
    code, out, _ = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 0, out
    with units() as unit:
        entries = unit.session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    assert entries[-1].actor == "old-version"
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(entries))
    with units() as unit:  # the application appends to the backfilled chain
        change_anchor(unit, "S-001", "dose_time", "10:00", reason="changed shift")
    code, out, _ = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 0, out
