"""Schema changes go through Alembic migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from scheduler.db import get_engine, normalise_url
from scheduler.errors import InputError


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "scheduler:migrations")
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(url: str) -> None:
    """Create or upgrade the schema to every head (features may add independent branches)."""
    command.upgrade(alembic_config(url), "heads")


def require_current(url: str) -> Engine:
    """The engine, once the database is known to be at the latest schema."""
    engine = get_engine(url)
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current != heads:
        state = "not initialised" if not current else "at an older schema"
        raise InputError("db", f"the database is {state}; run `dosing init` first")
    return engine
