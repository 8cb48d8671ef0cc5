"""Capsules marked not needed: a cycle's day 1 (or a dose changed mid-cycle) that passed with
nothing dispensed stays on the preparation list as overdue until it is dispensed or someone
records here why it will not be.

Revision ID: 0011unscheduleddispense
Revises: 0010stafflimits
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "0011unscheduleddispense"
down_revision: str | Sequence[str] | None = "0010stafflimits"
"""0008 follows the pharmacy branch (0003pharmacy), which created ``subject`` and the other
pharmacy tables this one sits next to."""
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispensingnotneeded",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("needed_on", sa.Date(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dispensingnotneeded", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispensingnotneeded_subject_id"), ["subject_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dispensingnotneeded", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispensingnotneeded_subject_id"))
    op.drop_table("dispensingnotneeded")
