"""Feeds learn that they are out of date from a revision counter on each subject instead of a
flag that every write set on the feed rows: a write then touches only its own subject's row, and
two writers on different subjects of one site no longer queue for that site's feed rows.

Existing feed revisions get source revision -1, which no subject sum equals, so each feed is
derived once more on its next fetch.

Revision ID: 0014subjectrevision
Revises: 0009audittamper, 0002feeds (it joins the feeds branch)
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014subjectrevision"
down_revision: str | Sequence[str] | None = ("0009audittamper", "0002feeds")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "subject", sa.Column("revision", sa.Integer(), nullable=False, server_default="0")
    )
    with op.batch_alter_table("feedrevision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source_revision", sa.Integer(), nullable=False, server_default="-1")
        )
        batch_op.drop_column("stale")


def downgrade() -> None:
    with op.batch_alter_table("feedrevision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stale", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.drop_column("source_revision")
    # Not a batch rebuild: rebuilding ``subject`` on SQLite breaks the keys that refer to it.
    op.drop_column("subject", "revision")
