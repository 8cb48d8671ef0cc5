"""Calendar feeds: event identities, feed tokens (hashes only) and feed revisions.

Revision ID: 0002feeds
Revises: 0001core
Create Date: 2026-11-25 09:45:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "0002feeds"
down_revision: str | Sequence[str] | None = "0001core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, length: int) -> sa.Column[Any]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False)


def _instant(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, scheduler.models.columns.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "feeditemidentity",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("kind", 16),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        _text("key", 64),
        _text("uid", 36),
        sa.Column("sequence", sa.Integer(), nullable=False),
        _text("fingerprint", 64),
        _instant("revised_at"),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject_id", "key"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("feeditemidentity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feeditemidentity_subject_id"), ["subject_id"], unique=False
        )
    op.create_table(
        "feedtoken",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("token_hash", 64),
        _text("kind", 16),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        _instant("created_at"),
        _text("created_by", 64),
        _instant("revoked_at", nullable=True),
        _text("revoked_by", 64),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feedtoken", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedtoken_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_feedtoken_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedtoken_site_id"), ["site_id"], unique=False)
    op.create_table(
        "feedrevision",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("feed", 48),
        _text("digest", 64),
        _instant("revised_at"),
        sa.Column("valid_on", sa.Date(), nullable=True),
        _text("options_digest", 64),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feedrevision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedrevision_feed"), ["feed"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("feedrevision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedrevision_feed"))
    op.drop_table("feedrevision")
    with op.batch_alter_table("feedtoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedtoken_site_id"))
        batch_op.drop_index(batch_op.f("ix_feedtoken_subject_id"))
        batch_op.drop_index(batch_op.f("ix_feedtoken_token_hash"))
    op.drop_table("feedtoken")
    with op.batch_alter_table("feeditemidentity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feeditemidentity_subject_id"))
    op.drop_table("feeditemidentity")
