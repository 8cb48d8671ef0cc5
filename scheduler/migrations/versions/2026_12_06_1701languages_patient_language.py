"""The language a patient reads: one per subject, by default the site's.

Both columns are added with a server default of "en" (plain ``ADD COLUMN``, no table rebuild on
SQLite, so the tamper triggers of 0009 on other tables are untouched): every existing subject
and site keeps reading English until someone changes it.

Revision ID: 1701languages
Revises: 1401signatures
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "1701languages"
down_revision: str | Sequence[str] | None = "1401signatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("site", "subject"):
        op.add_column(
            table,
            sa.Column(
                "language", AutoString(length=16), nullable=False, server_default=sa.text("'en'")
            ),
        )


def downgrade() -> None:
    # Native DROP COLUMN on both backends (SQLite 3.35+): no rebuild of ``subject``, whose
    # rows other tables refer to.
    for table in ("subject", "site"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN language")
