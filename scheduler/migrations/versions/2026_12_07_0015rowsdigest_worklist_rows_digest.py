"""The worklist's status row keeps a digest of the subject's other derived rows, so a write
that leaves them unchanged does not delete and insert them again.

Existing rows get an empty digest, which no digest equals: each subject's rows are written once
more at its next change.

Revision ID: 0015rowsdigest
Revises: 0014subjectrevision
Create Date: 2026-12-07 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "0015rowsdigest"
down_revision: str | Sequence[str] | None = "0014subjectrevision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "subjectstatus",
        sa.Column("rows_digest", AutoString(length=64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    with op.batch_alter_table("subjectstatus", schema=None) as batch_op:
        batch_op.drop_column("rows_digest")
