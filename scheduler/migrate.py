"""Schema changes go through Alembic migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from scheduler.db import get_engine, normalise_url
from scheduler.errors import InputError

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: a command that only reads or writes records (most of
# them) checks the schema's revision, and importing Alembic would double its start-up.


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "scheduler:migrations")
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(url: str) -> None:
    """Create or upgrade the schema to every head (features may add independent branches)."""
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


SCHEMA_HEADS = frozenset({"0004reminders", "1901visitcode"})
"""The migrations' heads, written out so that a command checks the schema without reading every
migration file (tests/models/test_migrations.py keeps it equal to Alembic's heads)."""


def require_current(url: str) -> Engine:
    """The engine, once the database is known to be at the latest schema."""
    engine = get_engine(url)
    with engine.connect() as connection:
        try:
            current = set(
                connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()
            )
        except DBAPIError:
            current = set()
    if current != SCHEMA_HEADS:
        state = "not initialised" if not current else "at an older schema"
        raise InputError("db", f"the database is {state}; run `dosing init` first")
    return engine
