"""The language a staff account reads its pages in.

Added with a server default of "en" (plain ``ADD COLUMN``, no table rebuild), so every existing
account keeps its English pages until an admin or the account's owner changes it.

Revision ID: 1704stafflanguage
Revises: 1602eligibility
Create Date: 2026-12-07 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "1704stafflanguage"
down_revision: str | Sequence[str] | None = "1602eligibility"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "staffuser",
        sa.Column(
            "language", AutoString(length=16), nullable=False, server_default=sa.text("'en'")
        ),
    )


def downgrade() -> None:
    # Native DROP COLUMN on both backends (SQLite 3.35+): no rebuild of ``staffuser``, whose
    # rows sessions and tokens refer to.
    op.execute("ALTER TABLE staffuser DROP COLUMN language")
