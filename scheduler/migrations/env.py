"""Alembic environment: the URL comes from the config built by ``scheduler.migrate``."""

from alembic import context
from sqlmodel import SQLModel

import scheduler.models  # noqa: F401  (registers the tables)
from scheduler.db import get_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = get_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
