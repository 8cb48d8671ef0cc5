"""Staff accounts, login sessions and API tokens.

Revision ID: 0005staff
Revises: 0001core
Create Date: 2026-11-25 09:15:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "0005staff"
down_revision: str | Sequence[str] | None = "0001core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, scheduler.models.columns.UtcDateTime(timezone=True), nullable=nullable)


def _string(name: str, length: int) -> sa.Column[Any]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False)


def upgrade() -> None:
    op.create_table(
        "staffuser",
        sa.Column("id", sa.Integer(), nullable=False),
        _string("name", 64),
        _string("role", 16),
        _string("password_hash", 200),
        sa.Column("active", sa.Boolean(), nullable=False),
        _instant("created_at"),
        _string("created_by", 64),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staffuser", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staffuser_name"), ["name"], unique=True)

    for table, columns in (
        (
            "staffsession",
            [_string("csrf_token", 64), _instant("created_at"), _instant("expires_at")],
        ),
        (
            "apitoken",
            [_string("label", 100), _instant("created_at"), _instant("revoked_at", nullable=True)],
        ),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            _string("token_sha256", 64),
            sa.Column("staff_id", sa.Integer(), nullable=False),
            *columns,
            sa.ForeignKeyConstraint(["staff_id"], ["staffuser.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_staff_id"), ["staff_id"], unique=False)
            batch_op.create_index(
                batch_op.f(f"ix_{table}_token_sha256"), ["token_sha256"], unique=True
            )


def downgrade() -> None:
    for table in ("apitoken", "staffsession"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_token_sha256"))
            batch_op.drop_index(batch_op.f(f"ix_{table}_staff_id"))
        op.drop_table(table)
    with op.batch_alter_table("staffuser", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staffuser_name"))
    op.drop_table("staffuser")
