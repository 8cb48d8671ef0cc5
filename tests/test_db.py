"""``local_day`` in SQL gives the day the site's calendar shows, on both backends, as Python
does: across a DST change and either side of the site's midnight."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import literal, select

from scheduler.clock import local_today
from scheduler.db import get_engine, local_day
from scheduler.models.columns import UtcDateTime

INSTANTS = (
    datetime(2026, 2, 25, 15, 59, tzinfo=UTC),  # 23:59 in Shanghai
    datetime(2026, 2, 25, 16, 0, tzinfo=UTC),  # midnight in Shanghai
    datetime(2026, 3, 8, 4, 59, tzinfo=UTC),  # 23:59 EST, the night clocks go forward
    datetime(2026, 3, 8, 5, 0, tzinfo=UTC),  # midnight EST
    datetime(2026, 11, 1, 3, 59, tzinfo=UTC),  # 23:59 EDT, the night clocks go back
    datetime(2026, 11, 1, 4, 0, tzinfo=UTC),  # midnight EDT
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 01:30 in London, before the change
    datetime(2026, 3, 29, 23, 30, tzinfo=UTC),  # 00:30 in London, the next day (BST)
)
ZONES = ("Asia/Shanghai", "America/New_York", "Europe/London", "UTC")


@pytest.mark.parametrize("zone", ZONES)
def test_the_database_tells_the_local_day_of_a_stored_instant_as_python_does(db_url, zone):
    engine = get_engine(db_url)
    with engine.connect() as connection:
        found = [
            connection.execute(
                select(local_day(literal(instant, UtcDateTime()), literal(zone)))
            ).scalar_one()
            for instant in INSTANTS
        ]
    expected = [local_today(instant, zone) for instant in INSTANTS]
    assert [str(day) for day in found] == [day.isoformat() for day in expected]
