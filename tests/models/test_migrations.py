"""The migrations produce exactly the schema the SQLModel tables describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import scheduler.models  # noqa: F401  (registers the tables)
from scheduler.db import get_engine
from scheduler.migrate import upgrade


def test_migrated_schema_matches_the_tables(db_url):
    with get_engine(db_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(db_url):
    upgrade(db_url)
    upgrade(db_url)
