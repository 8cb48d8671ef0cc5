"""Pharmacy tables: day-1 criteria checks, preparations, dispensings, returns and reviews.

Revision ID: 0003pharmacy
Revises: 0001core
Create Date: 2026-11-25 06:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "0003pharmacy"
down_revision: str | Sequence[str] | None = "0001core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("day1check", "preparation", "dispensing", "drugreturn", "reconciliationreview")


def _recorded() -> list[sa.Column[Any]]:
    return [
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
    ]


def _keys() -> list[sa.Constraint]:
    return [sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]), sa.PrimaryKeyConstraint("id")]


def _text(name: str, length: int) -> sa.Column[Any]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False)


def upgrade() -> None:
    op.create_table(
        "day1check",
        *_recorded(),
        sa.Column("met", sa.Boolean(), nullable=False),
        _text("reason", 500),
        *_keys(),
    )
    op.create_table(
        "preparation",
        *_recorded(),
        _text("action", 16),
        sa.Column("day1", sa.Date(), nullable=False),
        sa.Column("strength_mg", sa.Float(), nullable=False),
        sa.Column("capsule_count", sa.Integer(), nullable=False),
        _text("reason", 500),
        *_keys(),
    )
    op.create_table(
        "dispensing",
        *_recorded(),
        sa.Column("dispensed_on", sa.Date(), nullable=False),
        sa.Column("strength_mg", sa.Float(), nullable=False),
        sa.Column("capsule_count", sa.Integer(), nullable=False),
        _text("lot", 64),
        sa.Column("expiry", sa.Date(), nullable=False),
        _text("reason", 500),
        *_keys(),
    )
    op.create_table(
        "drugreturn",
        *_recorded(),
        sa.Column("returned_on", sa.Date(), nullable=False),
        sa.Column("strength_mg", sa.Float(), nullable=False),
        sa.Column("capsule_count", sa.Integer(), nullable=False),
        _text("reason", 500),
        *_keys(),
    )
    op.create_table("reconciliationreview", *_recorded(), _text("note", 500), *_keys())
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f(f"ix_{table}_subject_id"), ["subject_id"], unique=False
            )


def downgrade() -> None:
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_subject_id"))
        op.drop_table(table)
