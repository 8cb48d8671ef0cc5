"""Standing worklist items get the days they are listed on: a cycle-delay proposal lapses when
its cycle ends, with no record changing, so its row says until when it holds. And the visit
indexes become partial (open visits only) and covering, so a site's list is read from them
alone (``benchmarks/worklist_query.py``).

Existing rows keep NULL (listed every day, as before) until the next change to their subject
derives them again with their days.

Revision ID: 0007worklistdays
Revises: 0006worklist
Create Date: 2026-11-25 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

OPEN = "done = false AND tentative = false"
OPEN_SQLITE = "done = 0 AND tentative = 0"
DAY1 = " AND day1_cycle IS NOT NULL"
OPEN_COLUMNS = [
    *("subject_id", "target", "window_end", "dose_mg", "visit_code", "name", "done", "tentative")
]
DAY1_COLUMNS = [
    *("subject_id", "day1_cycle", "window_start", "window_end", "dose_mg", "visit_code", "done"),
    "tentative",
]

revision: str = "0007worklistdays"
down_revision: str | Sequence[str] | None = "0006worklist"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("standingitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shown_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("shown_until", sa.Date(), nullable=True))
    op.drop_index("ix_scheduledvisit_site_done_window_start", table_name="scheduledvisit")
    op.drop_index("ix_scheduledvisit_site_target", table_name="scheduledvisit")
    op.create_index(
        "ix_scheduledvisit_open",
        "scheduledvisit",
        ["site_id", "window_start", *OPEN_COLUMNS],
        sqlite_where=sa.text(OPEN_SQLITE),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_scheduledvisit_day1_open",
        "scheduledvisit",
        ["site_id", "target", *DAY1_COLUMNS],
        sqlite_where=sa.text(OPEN_SQLITE + DAY1),
        postgresql_where=sa.text(OPEN + DAY1),
    )


def downgrade() -> None:
    op.drop_index("ix_scheduledvisit_day1_open", table_name="scheduledvisit")
    op.drop_index("ix_scheduledvisit_open", table_name="scheduledvisit")
    op.create_index("ix_scheduledvisit_site_target", "scheduledvisit", ["site_id", "target"])
    op.create_index(
        "ix_scheduledvisit_site_done_window_start",
        "scheduledvisit",
        ["site_id", "done", "window_start"],
    )
    with op.batch_alter_table("standingitem", schema=None) as batch_op:
        batch_op.drop_column("shown_until")
        batch_op.drop_column("shown_from")
