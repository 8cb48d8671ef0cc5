"""The surgery date becomes optional: a protocol without visits counted from the surgery (the
capecitabine example) enrols subjects without one. Every existing subject keeps theirs.

The worklist's copy of a subject's status widens to 32 characters for the statuses of a subject
stopped before the first dose ("withdrawn_before_treatment", "screen_failure").

(The revision id was reserved for the handout's site contact; the site table already holds the
hospital's name and telephone number, so the one schema change this work needs is this one.)

Revision ID: 0012sitecontact
Revises: 0011unscheduleddispense
Create Date: 2026-12-06 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "0012sitecontact"
down_revision: str | Sequence[str] | None = "0011unscheduleddispense"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> AutoString:
    return AutoString(length=length)


def _surgery_date(nullable: bool) -> None:
    """On SQLite, changing a column's nullability rebuilds the table (copy, drop, rename), and
    dropping ``subject`` while other tables' rows refer to it breaks their foreign keys, even
    for the moment the new table takes its place. Foreign keys can only be switched off outside
    a transaction, so the rebuild runs in its own, with them off, and is checked after."""
    if op.get_bind().dialect.name != "sqlite":
        with op.batch_alter_table("subject", schema=None) as batch_op:
            batch_op.alter_column("surgery_date", existing_type=sa.Date(), nullable=nullable)
        return
    with op.get_context().autocommit_block():
        op.execute("PRAGMA foreign_keys=OFF")
        try:
            with op.batch_alter_table("subject", schema=None) as batch_op:
                batch_op.alter_column("surgery_date", existing_type=sa.Date(), nullable=nullable)
            broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign keys broken by rebuilding subject: {broken[:5]}")
        finally:
            op.execute("PRAGMA foreign_keys=ON")


def upgrade() -> None:
    _surgery_date(nullable=True)
    with op.batch_alter_table("subjectstatus", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=_text(16), type_=_text(32), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subjectstatus", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=_text(32), type_=_text(16), existing_nullable=False
        )
    _surgery_date(nullable=False)
