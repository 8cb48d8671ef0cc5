"""Migration 1901 gives the visit rows written before it their subject's code."""

from alembic import command
from sqlalchemy import inspect, text

from scheduler.db import get_engine
from scheduler.migrate import alembic_config, upgrade
from scheduler.subjects.enrolment import enroll


def test_existing_visit_rows_get_their_subjects_code(db_url, units):
    for code in ("ZJ-001", "ZJ-002"):
        with units() as unit:
            enroll(unit, code, c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1")
    engine = get_engine(db_url)
    try:
        command.downgrade(alembic_config(db_url), "1801mergeheads")
        columns = {c["name"] for c in inspect(engine).get_columns("scheduledvisit")}
        assert "code" not in columns
    finally:
        upgrade(db_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT subject.code, scheduledvisit.code FROM scheduledvisit"
                " JOIN subject ON subject.id = scheduledvisit.subject_id"
            )
        ).all()
    assert {subject for subject, _ in rows} == {"ZJ-001", "ZJ-002"}
    assert all(subject == copied for subject, copied in rows)
