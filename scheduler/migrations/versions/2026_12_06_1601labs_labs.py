"""Lab results and vital signs, corrections of a subject's baseline per test, and the worklist
items the labs projection derives from them. Results and baseline corrections are clinical
records: append-only, with the triggers 0009audittamper installs on the others (restated here,
as a migration keeps doing what it did when it was written).

Revision ID: 1601labs
Revises: 1701languages
Create Date: 2026-12-06 23:22:55
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "1601labs"
down_revision: str | Sequence[str] | None = "1701languages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = ("labresult", "labbaseline")


def _create_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dosing_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dosing_refuse_change()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{operation} on {table}: the table is append-only "
            "(records are corrected by new records)'); END"
        )


def _drop_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        return
    for operation in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def upgrade() -> None:
    op.create_table(
        "labresult",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("test", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("reported", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("lln", sa.Float(), nullable=True),
        sa.Column("uln", sa.Float(), nullable=True),
        sa.Column("value_std", sa.Float(), nullable=False),
        sa.Column("lln_std", sa.Float(), nullable=True),
        sa.Column("uln_std", sa.Float(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("adverse_event_id", sa.Integer(), nullable=True),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["adverse_event_id"],
            ["adverseevent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["labresult.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("labresult", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labresult_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "labbaseline",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("test", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["labresult.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("labbaseline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labbaseline_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "labworkitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("what", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("shown_from", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("labworkitem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labworkitem_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_labworkitem_subject_id"), ["subject_id"], unique=False)
    for table in APPEND_ONLY:
        _create_triggers(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_triggers(table)
    with op.batch_alter_table("labworkitem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labworkitem_subject_id"))
        batch_op.drop_index(batch_op.f("ix_labworkitem_site_id"))
    op.drop_table("labworkitem")
    with op.batch_alter_table("labbaseline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labbaseline_subject_id"))

    op.drop_table("labbaseline")
    with op.batch_alter_table("labresult", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labresult_subject_id"))

    op.drop_table("labresult")
