"""Day-1 criteria checks get the date they were assessed: the plan now holds a cycle back
until its criteria are met, so it needs to know when each check was made, not only when it was
typed in.

Existing rows are backfilled with the date of ``recorded_at`` in the subject's time zone (what
the service now defaults to for a check made today). ``recorded_at`` is a UTC instant on both
backends, so the conversion is done here row by row rather than in SQL, which would give the
UTC date (a day off for checks typed in before 08:00 in Shanghai).

Revision ID: 0008day1assessedon
Revises: 0007worklistdays, 0003pharmacy
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import scheduler.models.columns

revision: str = "0008day1assessedon"
down_revision: str | Sequence[str] | None = ("0007worklistdays", "0003pharmacy")
"""The latest revision, and the pharmacy branch that created the table: migrations branch per
feature from 0001core, so 0007 alone does not guarantee the table exists. (A ``depends_on``
would leave 0003pharmacy a head of the scripts but not of the database, which ``dosing`` then
reads as an older schema.)"""
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = sa.table(
    "day1check",
    sa.column("id", sa.Integer()),
    sa.column("subject_id", sa.Integer()),
    sa.column("recorded_at", scheduler.models.columns.UtcDateTime(timezone=True)),
    sa.column("assessed_on", sa.Date()),
)
_SUBJECT = sa.table("subject", sa.column("id", sa.Integer()), sa.column("time_zone", sa.String()))


def upgrade() -> None:
    with op.batch_alter_table("day1check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assessed_on", sa.Date(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_CHECK.c.id, _CHECK.c.recorded_at, _SUBJECT.c.time_zone).join(
            _SUBJECT, _SUBJECT.c.id == _CHECK.c.subject_id
        )
    ).all()
    if rows:
        connection.execute(
            _CHECK.update().where(_CHECK.c.id == sa.bindparam("check_id")),
            [
                {"check_id": id_, "assessed_on": at.astimezone(ZoneInfo(zone)).date()}
                for id_, at, zone in rows
            ],
        )
    with op.batch_alter_table("day1check", schema=None) as batch_op:
        batch_op.alter_column("assessed_on", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("day1check", schema=None) as batch_op:
        batch_op.drop_column("assessed_on")
