"""Screening: eligibility answers, investigators' waivers and screen failures. All three are
clinical records, append-only with the triggers of 0009audittamper (restated here, as a
migration keeps doing what it did when it was written).

Revision ID: 1602eligibility
Revises: 1601labs
Create Date: 2026-12-06 23:44:48
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "1602eligibility"
down_revision: str | Sequence[str] | None = "1601labs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = ("eligibilityanswer", "eligibilitywaiver", "screenfailure")


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
        "eligibilityanswer",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("source_document", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("eligibilityanswer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_eligibilityanswer_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "eligibilitywaiver",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("eligibilitywaiver", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_eligibilitywaiver_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "screenfailure",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("failed_on", sa.Date(), nullable=False),
        sa.Column("criteria", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("screenfailure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screenfailure_subject_id"), ["subject_id"], unique=False
        )

    for table in APPEND_ONLY:
        _create_triggers(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_triggers(table)
    with op.batch_alter_table("screenfailure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screenfailure_subject_id"))

    op.drop_table("screenfailure")
    with op.batch_alter_table("eligibilitywaiver", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eligibilitywaiver_subject_id"))

    op.drop_table("eligibilitywaiver")
    with op.batch_alter_table("eligibilityanswer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eligibilityanswer_subject_id"))

    op.drop_table("eligibilityanswer")
