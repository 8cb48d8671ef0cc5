"""The patient's private page: its links, what patients report (doses, home blood pressure),
the nurses' reviews of the reports, worklist items derived from them, and the per-link request
log of the throttle. Reports and reviews are append-only, with the triggers of 0009audittamper
(restated here, as a migration keeps doing what it did when it was written).

Revision ID: 1703patientreports
Revises: 1602eligibility
Create Date: 2026-12-07 02:14:35.090658
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import scheduler.models.columns

revision: str = "1703patientreports"
down_revision: str | Sequence[str] | None = "1602eligibility"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("patientreport", "patientreview")


def _create_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dosing_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dosing_refuse_change()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{operation} on {table}: the table is append-only "
            "(records are corrected by new records)'); END"
        )


def _drop_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        return
    for operation in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def upgrade() -> None:
    op.create_table(
        "patientrequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("patientrequest", schema=None) as batch_op:
        batch_op.create_index("ix_patientrequest_at", ["at"], unique=False)
        batch_op.create_index("ix_patientrequest_key_at", ["key", "at"], unique=False)

    op.create_table(
        "patientlink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("alert_unreported", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("revoked_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("patientlink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patientlink_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_patientlink_token_hash"), ["token_hash"], unique=True)

    op.create_table(
        "patientworkitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("what", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("shown_from", sa.Date(), nullable=False),
        sa.Column("shown_until", sa.Date(), nullable=True),
        sa.Column(
            "listed_from", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("patientworkitem", schema=None) as batch_op:
        batch_op.create_index(
            "ix_patientworkitem_site_shown", ["site_id", "shown_from"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_patientworkitem_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "patientreport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Boolean(), nullable=True),
        sa.Column("taken_at", sa.Time(), nullable=True),
        sa.Column("systolic", sa.Integer(), nullable=True),
        sa.Column("diastolic", sa.Integer(), nullable=True),
        sa.Column("via", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["patientlink.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("patientreport", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patientreport_subject_id"), ["subject_id"], unique=False
        )
        batch_op.create_index(
            "uq_patientreport_item", ["subject_id", "kind", "report_date", "slot"], unique=True
        )

    op.create_table(
        "patientreview",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("dose_record_id", sa.Integer(), nullable=True),
        sa.Column("lab_result_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column(
            "recorded_at", scheduler.models.columns.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dose_record_id"],
            ["doserecord.id"],
        ),
        sa.ForeignKeyConstraint(
            ["lab_result_id"],
            ["labresult.id"],
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["patientreport.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("patientreview", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patientreview_subject_id"), ["subject_id"], unique=False
        )
        batch_op.create_index("uq_patientreview_report", ["report_id"], unique=True)

    for table in APPEND_ONLY:
        _create_triggers(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_triggers(table)
    with op.batch_alter_table("patientreview", schema=None) as batch_op:
        batch_op.drop_index("uq_patientreview_report")
        batch_op.drop_index(batch_op.f("ix_patientreview_subject_id"))

    op.drop_table("patientreview")
    with op.batch_alter_table("patientreport", schema=None) as batch_op:
        batch_op.drop_index("uq_patientreport_item")
        batch_op.drop_index(batch_op.f("ix_patientreport_subject_id"))

    op.drop_table("patientreport")
    with op.batch_alter_table("patientworkitem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patientworkitem_subject_id"))
        batch_op.drop_index("ix_patientworkitem_site_shown")

    op.drop_table("patientworkitem")
    with op.batch_alter_table("patientlink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patientlink_token_hash"))
        batch_op.drop_index(batch_op.f("ix_patientlink_subject_id"))

    op.drop_table("patientlink")
    with op.batch_alter_table("patientrequest", schema=None) as batch_op:
        batch_op.drop_index("ix_patientrequest_key_at")
        batch_op.drop_index("ix_patientrequest_at")

    op.drop_table("patientrequest")
