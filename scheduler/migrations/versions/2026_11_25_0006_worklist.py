"""Worklist rows derived from the plans: scheduled visits, subject status, missed doses and
standing items, indexed for the nurse's worklist queries.

The migration creates empty tables (it cannot build plans). Subjects enrolled before it get
their rows the first time the worklist is drawn (``scheduler.worklist.rows.backfill``),
in that request's transaction; every later change keeps them in step through ``REFRESHERS``.

Revision ID: 0006worklist
Revises: 0001core
Create Date: 2026-11-25 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006worklist"
down_revision: str | Sequence[str] | None = "0001core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False)


def _keys() -> list[sa.Constraint]:
    return [
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
    ]


def upgrade() -> None:
    op.create_table(
        "scheduledvisit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        _text("visit_code", 32),
        _text("name", 200),
        sa.Column("cycle", sa.Integer(), nullable=True),
        sa.Column("day1_cycle", sa.Integer(), nullable=True),
        sa.Column("target", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("tentative", sa.Boolean(), nullable=False),
        sa.Column("dose_mg", sa.Float(), nullable=False),
        *_keys(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scheduledvisit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scheduledvisit_site_done_window_start",
            ["site_id", "done", "window_start"],
            unique=False,
        )
        batch_op.create_index("ix_scheduledvisit_site_target", ["site_id", "target"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_scheduledvisit_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "subjectstatus",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        _text("code", 32),
        _text("status", 16),
        sa.Column("dose_mg", sa.Float(), nullable=False),
        sa.Column("hold_start", sa.Date(), nullable=True),
        sa.Column("hold_end", sa.Date(), nullable=True),
        _text("hold_reason", 500),
        sa.Column("max_hold_days", sa.Integer(), nullable=False),
        sa.Column("first_unrecorded_dose", sa.Date(), nullable=True),
        sa.Column("refreshed_on", sa.Date(), nullable=False),
        *_keys(),
        sa.PrimaryKeyConstraint("subject_id"),
    )
    with op.batch_alter_table("subjectstatus", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subjectstatus_site_hold_start", ["site_id", "hold_start"], unique=False
        )
        batch_op.create_index(
            "ix_subjectstatus_site_first_unrecorded",
            ["site_id", "first_unrecorded_dose"],
            unique=False,
        )

    op.create_table(
        "misseddose",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        _text("slot_key", 16),
        sa.Column("dose_date", sa.Date(), nullable=False),
        sa.Column("dose_mg", sa.Float(), nullable=False),
        *_keys(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("misseddose", schema=None) as batch_op:
        batch_op.create_index(
            "ix_misseddose_site_dose_date", ["site_id", "dose_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_misseddose_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "standingitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        _text("kind", 32),
        _text("what", 200),
        _text("detail", 1000),
        *_keys(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("standingitem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standingitem_site_id"), ["site_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_standingitem_subject_id"), ["subject_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("standingitem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standingitem_subject_id"))
        batch_op.drop_index(batch_op.f("ix_standingitem_site_id"))
    op.drop_table("standingitem")
    with op.batch_alter_table("misseddose", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_misseddose_subject_id"))
        batch_op.drop_index("ix_misseddose_site_dose_date")
    op.drop_table("misseddose")
    with op.batch_alter_table("subjectstatus", schema=None) as batch_op:
        batch_op.drop_index("ix_subjectstatus_site_first_unrecorded")
        batch_op.drop_index("ix_subjectstatus_site_hold_start")
    op.drop_table("subjectstatus")
    with op.batch_alter_table("scheduledvisit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduledvisit_subject_id"))
        batch_op.drop_index("ix_scheduledvisit_site_target")
        batch_op.drop_index("ix_scheduledvisit_site_done_window_start")
    op.drop_table("scheduledvisit")
