"""The migrations produce exactly the schema the SQLModel tables describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, inspect, select
from sqlmodel import SQLModel

from scheduler.db import get_engine
from scheduler.migrate import SCHEMA_HEADS, alembic_config, upgrade
from scheduler.models import ProtocolVersion, Site  # (and registers every table)


def test_migrated_schema_matches_the_tables(db_url):
    with get_engine(db_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def _state(engine: Engine) -> dict[str, object]:
    """The schema (tables, columns, keys, indexes), the alembic revisions and every row."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        schema = {
            table: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                inspector.get_pk_constraint(table)["constrained_columns"],
                sorted(
                    (fk["constrained_columns"], fk["referred_table"], fk["referred_columns"])
                    for fk in inspector.get_foreign_keys(table)
                ),
                sorted(
                    (i["name"], i["column_names"], bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                sorted(
                    (u["name"] or "", u["column_names"])
                    for u in inspector.get_unique_constraints(table)
                ),
            )
            for table in sorted(inspector.get_table_names())
        }
        revisions = set(MigrationContext.configure(connection).get_current_heads())
        tables = MetaData()
        tables.reflect(connection)
        rows = {
            name: sorted(map(tuple, connection.execute(select(table)).all()), key=repr)
            for name, table in sorted(tables.tables.items())
        }
    return {"schema": schema, "revisions": revisions, "rows": rows}


def test_upgrading_twice_is_harmless(db_url, units):
    engine = get_engine(db_url)  # ``units`` stored the shipped protocols and the default site
    before = _state(engine)
    heads = set(ScriptDirectory.from_config(alembic_config(db_url)).get_heads())
    assert before["revisions"] == heads
    assert before["rows"][ProtocolVersion.__tablename__] and before["rows"][Site.__tablename__]
    upgrade(db_url)
    upgrade(db_url)
    assert _state(engine) == before


def test_the_written_out_heads_are_alembics():
    """``require_current`` compares the database with ``SCHEMA_HEADS``: a new migration must
    update it, or every command would refuse the upgraded database."""
    assert set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()) == set(
        SCHEMA_HEADS
    )
