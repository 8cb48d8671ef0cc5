"""Results, baseline corrections and screening records are clinical records: the database
refuses to update or delete them, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from eligible import make_eligible
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from scheduler.db import get_engine
from scheduler.eligibility.checklist import answer_criterion, waive_criterion
from scheduler.eligibility.screening import record_screen_failure
from scheduler.labs.baselines import correct_baseline
from scheduler.subjects.enrolment import enroll

TABLES = ("labresult", "labbaseline", "eligibilityanswer", "eligibilitywaiver", "screenfailure")


@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}"])
def test_the_database_refuses_to_change_lab_and_screening_records(db_url, units, statement):
    with units() as unit:
        enroll(unit, "S-1", c1d1="2026-03-09", surgery="2026-02-01", site_code="ZJU1")
        make_eligible(unit, "S-1", on="2026-02-20")
    with units() as unit:
        correct_baseline(unit, "S-1", test="ALT", result_id=None, reason="no baseline")
        answer_criterion(unit, "S-1", criterion="AGE", answer="80", source="ID")
        waive_criterion(unit, "S-1", criterion="AGE", reason="sponsor agreed")
        answer_criterion(unit, "S-1", criterion="CONSENT", answer="no", source="CRF")
        record_screen_failure(unit, "S-1", on="2026-03-02", reason="withdrew consent")
    engine = get_engine(db_url)
    for table in TABLES:
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text(statement.format(table=table)))
    with engine.connect() as connection:
        counts = {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
    assert all(counts.values()), counts
