"""Electronic signatures: the ``signature`` table (append-only, one signature per record) and
the printed name of each staff account, which a signature shows.

Revision ID: 1401signatures
Revises: 0015rowsdigest
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "1401signatures"
down_revision: str | Sequence[str] | None = "0015rowsdigest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create_triggers(table: str) -> None:
    """As 0009audittamper does for the record tables (its ``dosing_refuse_change`` function
    on PostgreSQL)."""
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
    op.add_column(
        "staffuser",
        sa.Column(
            "full_name",
            sqlmodel.sql.sqltypes.AutoString(length=200),
            nullable=False,
            server_default="",
        ),
    )
    op.create_table(
        "signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("record_kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("record_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signer_account", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signer_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("signed_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("signed_local", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("meaning", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(["signer_id"], ["staffuser.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_kind", "record_id"),
    )
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signature_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signature_signer_id"), ["signer_id"], unique=False)
    _create_triggers("signature")


def downgrade() -> None:
    _drop_triggers("signature")
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signature_signer_id"))
        batch_op.drop_index(batch_op.f("ix_signature_subject_id"))
    op.drop_table("signature")
    with op.batch_alter_table("staffuser", schema=None) as batch_op:
        batch_op.drop_column("full_name")
