"""Each visit row carries its subject's code, and a second partial index orders the open visits
by window end, code and visit code: the page of every site reads each urgency group's first
visits from the head of an index range instead of ranking every open visit joined to its
subject. On PostgreSQL both codes are collated "C" (code point order, as Python sorts them),
so that the index serves the list's order without a sort.

Existing rows take their subject's code here; the projection writes it from now on.

Revision ID: 1901visitcode
Revises: 1801mergeheads
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

OPEN = "done = false AND tentative = false"
OPEN_SQLITE = "done = 0 AND tentative = 0"
RANKED_COLUMNS = [
    *("site_id", "window_end", "code", "visit_code", "window_start", "target", "dose_mg", "name"),
    *("done", "tentative"),
]
CODE_TEXT = sa.String(32).with_variant(sa.String(32, collation="C"), "postgresql")

revision: str = "1901visitcode"
down_revision: str | Sequence[str] | None = "1801mergeheads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scheduledvisit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", CODE_TEXT, nullable=False, server_default=""))
    op.execute(
        "UPDATE scheduledvisit SET code = "
        "(SELECT subject.code FROM subject WHERE subject.id = scheduledvisit.subject_id)"
    )
    with op.batch_alter_table("scheduledvisit", schema=None) as batch_op:
        batch_op.alter_column("code", server_default=None)
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("scheduledvisit", "visit_code", type_=sa.String(32, collation="C"))
    op.create_index(
        "ix_scheduledvisit_open_ranked",
        "scheduledvisit",
        RANKED_COLUMNS,
        sqlite_where=sa.text(OPEN_SQLITE),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_scheduledvisit_open_ranked", table_name="scheduledvisit")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("scheduledvisit", "visit_code", type_=sa.String(32))
    with op.batch_alter_table("scheduledvisit", schema=None) as batch_op:
        batch_op.drop_column("code")
