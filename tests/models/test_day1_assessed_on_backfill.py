"""Migration 0008 dates the day-1 checks recorded before it by the subject's local date."""

from datetime import UTC, date, datetime

from alembic import command
from eligible import make_eligible
from sqlalchemy import inspect
from sqlmodel import select

from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.kernel.unit import unit_of_work
from scheduler.migrate import alembic_config, upgrade
from scheduler.models import Day1Check, Subject
from scheduler.pharmacy.accountability import confirm_day1
from scheduler.subjects.enrolment import enroll


def test_existing_checks_get_the_date_they_were_recorded_in_the_subject_s_zone(db_url, units):
    engine = get_engine(db_url)
    # 20:00 UTC on 1 March is 2 March in Shanghai; 03:00 UTC on 2 March is 1 March in New York.
    recorded = {
        "S-SH": (datetime(2026, 3, 1, 20, 0, tzinfo=UTC), "Asia/Shanghai", date(2026, 3, 2)),
        "S-NY": (datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "America/New_York", date(2026, 3, 1)),
    }
    for code, (at, zone, _) in recorded.items():
        with unit_of_work(engine, "nurse", FixedClock(at)) as unit:
            enroll(
                unit,
                code,
                c1d1="2026-03-02",
                surgery="2026-02-01",
                site_code="ZJU1",
                time_zone=zone,
            )
            make_eligible(unit, code, on="2026-02-20")
            confirm_day1(unit, code, cycle=1, met=True)
    try:
        command.downgrade(alembic_config(db_url), "0007worklistdays")
        columns = {c["name"] for c in inspect(engine).get_columns("day1check")}
        assert "assessed_on" not in columns and "recorded_at" in columns
    finally:
        upgrade(db_url)

    with units() as unit:
        found = unit.session.exec(
            select(Subject.code, Day1Check.assessed_on).join(
                Subject, Subject.id == Day1Check.subject_id
            )
        ).all()
    assert sorted(found) == sorted((code, day) for code, (_, _, day) in recorded.items())
