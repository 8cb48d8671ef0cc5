"""The pharmacy preparation list kept for the day (``scheduler.pharmacy.kept_rows``): a stamp
per subject saying what its rows were derived from, the rows as JSON with the columns the
list sorts and counts by, and the capsules still to prepare per strength for the totals.

The tables start empty: until a subject's rows are kept, the list derives them on each request
as it did before.

Revision ID: 1201pharmacyrows
Revises: 1602eligibility
Create Date: 2026-12-07 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1201pharmacyrows"
down_revision: str | Sequence[str] | None = "1602eligibility"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preparationstamp",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("derived_for", sa.Date(), nullable=False),
        sa.Column("range_start", sa.Date(), nullable=False),
        sa.Column("range_end", sa.Date(), nullable=False),
        sa.Column("holidays", sa.Text(), nullable=False),
        sa.Column("discrepancies", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("subject_id"),
    )
    op.create_index(op.f("ix_preparationstamp_site_id"), "preparationstamp", ["site_id"])
    op.create_table(
        "keptpreparationrow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("prepare_by", sa.Date(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "keptcapsuletotal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("strength_mg", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_keptcapsuletotal_site_id", "keptcapsuletotal", ["site_id", "strength_mg", "count"]
    )
    op.create_index(op.f("ix_keptcapsuletotal_subject_id"), "keptcapsuletotal", ["subject_id"])
    op.create_index(
        "ix_keptpreparationrow_site_prepare_by",
        "keptpreparationrow",
        ["site_id", "prepare_by"],
    )
    op.create_index(op.f("ix_keptpreparationrow_subject_id"), "keptpreparationrow", ["subject_id"])
    op.create_index("ix_keptpreparationrow_prepare_by", "keptpreparationrow", ["prepare_by"])


def downgrade() -> None:
    op.drop_index("ix_keptpreparationrow_prepare_by", table_name="keptpreparationrow")
    op.drop_index(op.f("ix_keptpreparationrow_subject_id"), table_name="keptpreparationrow")
    op.drop_index("ix_keptpreparationrow_site_prepare_by", table_name="keptpreparationrow")
    op.drop_table("keptpreparationrow")
    op.drop_index(op.f("ix_keptcapsuletotal_subject_id"), table_name="keptcapsuletotal")
    op.drop_index("ix_keptcapsuletotal_site_id", table_name="keptcapsuletotal")
    op.drop_table("keptcapsuletotal")
    op.drop_index(op.f("ix_preparationstamp_site_id"), table_name="preparationstamp")
    op.drop_table("preparationstamp")
