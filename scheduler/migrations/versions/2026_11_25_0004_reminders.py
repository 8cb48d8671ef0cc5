"""Reminder outbox and reminder preferences.

Revision ID: 0004reminders
Revises: 0001core
Create Date: 2026-11-25 09:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "0004reminders"
down_revision: str | Sequence[str] | None = "0001core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, scheduler.models.columns.UtcDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("kind", 16),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        _text("item_key", 32),
        _instant("due_at"),
        _instant("expires_at"),
        _text("channel", 16),
        _text("address", 320),
        _text("idempotency_key", 200),
        _text("status", 16),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _instant("next_attempt_at"),
        _text("claimed_by", 100, nullable=True),
        _instant("claimed_until", nullable=True),
        _instant("sent_at", nullable=True),
        _text("last_error", 500, nullable=True),
        _text("title", 200),
        sa.Column("body", sa.Text(), nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reminder_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_reminder_status_claimed_until", ["status", "claimed_until"], unique=False
        )
        batch_op.create_index(
            "ix_reminder_subject_id_status", ["subject_id", "status"], unique=False
        )

    op.create_table(
        "reminderpreference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        _text("channel", 16),
        _text("address", 320),
        _instant("updated_at"),
        _text("updated_by", 64),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_id"),
    )


def downgrade() -> None:
    op.drop_table("reminderpreference")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_subject_id_status")
        batch_op.drop_index("ix_reminder_status_claimed_until")
        batch_op.drop_index("ix_reminder_status_next_attempt_at")
    op.drop_table("reminder")
