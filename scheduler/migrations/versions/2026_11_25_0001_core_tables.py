"""Core tables: sites, protocol versions, subjects, recorded events, voids and the audit trail.

Revision ID: 0001core
Revises:
Create Date: 2026-11-25 04:50:48.784507
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "0001core"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "protocolversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("loaded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("protocol_id", "version"),
    )
    with op.batch_alter_table("protocolversion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_protocolversion_protocol_id"), ["protocol_id"], unique=False
        )

    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_code"), ["code"], unique=True)

    op.create_table(
        "subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("protocol_version_id", sa.Integer(), nullable=False),
        sa.Column("c1d1", sa.Date(), nullable=False),
        sa.Column("surgery_date", sa.Date(), nullable=False),
        sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("dose_time", sa.Time(), nullable=False),
        sa.Column(
            "enrolled_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("enrolled_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["protocol_version_id"],
            ["protocolversion.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_code"), ["code"], unique=True)
        batch_op.create_index(batch_op.f("ix_subject_site_id"), ["site_id"], unique=False)

    op.create_table(
        "adverseevent",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("term", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("onset", sa.Date(), nullable=False),
        sa.Column("related", sa.Boolean(), nullable=False),
        sa.Column("intolerable", sa.Boolean(), nullable=False),
        sa.Column("proposed_action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("proposal_rule", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("proposal_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("adverseevent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adverseevent_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "auditentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditentry_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditentry_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "discontinuation",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("discontinuation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_discontinuation_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "doserecord",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("dose_date", sa.Date(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Boolean(), nullable=False),
        sa.Column("taken_at", sa.Time(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("doserecord", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_doserecord_dose_date"), ["dose_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_doserecord_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "resumption",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("resume_date", sa.Date(), nullable=False),
        sa.Column("dose_mg", sa.Float(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resumption", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resumption_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "visitrecord",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("actual_date", sa.Date(), nullable=False),
        sa.Column("deviation", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("visitrecord", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visitrecord_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "void",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("record_kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_kind", "record_id"),
    )
    with op.batch_alter_table("void", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_void_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "hold",
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("adverse_event_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["adverse_event_id"],
            ["adverseevent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hold_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hold_subject_id"))

    op.drop_table("hold")
    with op.batch_alter_table("void", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_void_subject_id"))

    op.drop_table("void")
    with op.batch_alter_table("visitrecord", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visitrecord_subject_id"))

    op.drop_table("visitrecord")
    with op.batch_alter_table("resumption", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resumption_subject_id"))

    op.drop_table("resumption")
    with op.batch_alter_table("doserecord", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_doserecord_subject_id"))
        batch_op.drop_index(batch_op.f("ix_doserecord_dose_date"))

    op.drop_table("doserecord")
    with op.batch_alter_table("discontinuation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discontinuation_subject_id"))

    op.drop_table("discontinuation")
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditentry_subject_id"))
        batch_op.drop_index(batch_op.f("ix_auditentry_at"))

    op.drop_table("auditentry")
    with op.batch_alter_table("adverseevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adverseevent_subject_id"))

    op.drop_table("adverseevent")
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_site_id"))
        batch_op.drop_index(batch_op.f("ix_subject_code"))

    op.drop_table("subject")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_code"))

    op.drop_table("site")
    with op.batch_alter_table("protocolversion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_protocolversion_protocol_id"))

    op.drop_table("protocolversion")
