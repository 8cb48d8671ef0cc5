"""Staff limits: the sites an account works at, login failures for throttling, and API tokens
that expire and remember their last use.

Existing accounts get no site rows, which means study-wide: nobody loses access at the upgrade,
and an admin then binds site staff with ``dosing user sites``. Existing API tokens expire 90 days
after the upgrade (the default lifetime of a new token), so clients have that long to get one
with its own expiry.

Revision ID: 0010stafflimits
Revises: 0008day1assessedon, 0005staff
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "0010stafflimits"
down_revision: str | Sequence[str] | None = ("0008day1assessedon", "0005staff")
"""The latest revision, and the staff branch that created ``staffuser`` and ``apitoken``:
migrations branch per feature from 0001core, so 0008 alone does not guarantee those tables."""
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKEN = sa.table(
    "apitoken",
    sa.column("expires_at", scheduler.models.columns.UtcDateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "staffsite",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staffuser.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("staff_id", "site_id"),
    )
    with op.batch_alter_table("staffsite", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staffsite_site_id"), ["site_id"], unique=False)

    op.create_table(
        "loginfailure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("loginfailure", schema=None) as batch_op:
        batch_op.create_index("ix_loginfailure_name_at", ["name", "at"], unique=False)
        batch_op.create_index("ix_loginfailure_address_at", ["address", "at"], unique=False)

    instant = scheduler.models.columns.UtcDateTime(timezone=True)
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", instant, nullable=True))
        batch_op.add_column(sa.Column("last_used_at", instant, nullable=True))
    op.get_bind().execute(_TOKEN.update().values(expires_at=datetime.now(UTC) + timedelta(days=90)))
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=instant, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("loginfailure", schema=None) as batch_op:
        batch_op.drop_index("ix_loginfailure_address_at")
        batch_op.drop_index("ix_loginfailure_name_at")
    op.drop_table("loginfailure")
    with op.batch_alter_table("staffsite", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staffsite_site_id"))
    op.drop_table("staffsite")
