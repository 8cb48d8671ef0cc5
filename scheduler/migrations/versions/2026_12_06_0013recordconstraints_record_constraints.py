"""The database enforces what the services check: one first record per dose slot, each
correction naming the record it corrects (and each record corrected once), one standing
discontinuation per subject.

Two writers at the same moment can both pass a service's check ("no dose recorded yet"); the
unique indexes make the second one fail instead of storing two uncorrected first records.
Existing rows are chained in the order they were stored: the first record of a slot corrects
nothing, each later one corrects the one before it (voided or not); the same for a subject's
discontinuations.

Revision ID: 0013recordconstraints
Revises: 0012sitecontact
Create Date: 2026-12-06 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013recordconstraints"
down_revision: str | Sequence[str] | None = "0012sitecontact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _chain(table: str, link: str, group: tuple[str, ...]) -> None:
    connection = op.get_bind()
    columns = ", ".join(group)
    rows = connection.execute(sa.text(f"SELECT id, {columns} FROM {table} ORDER BY id")).all()
    previous: dict[tuple[object, ...], int] = {}
    for row in rows:
        key = tuple(row[1:])
        if key in previous:
            connection.execute(
                sa.text(f"UPDATE {table} SET {link} = :prev WHERE id = :id"),
                {"prev": previous[key], "id": row[0]},
            )
        previous[key] = row[0]


def upgrade() -> None:
    with op.batch_alter_table("doserecord", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_doserecord_corrects_id_doserecord", "doserecord", ["corrects_id"], ["id"]
        )
    with op.batch_alter_table("discontinuation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaces_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_discontinuation_replaces_id_discontinuation",
            "discontinuation",
            ["replaces_id"],
            ["id"],
        )
    _chain("doserecord", "corrects_id", ("subject_id", "dose_date", "slot"))
    _chain("discontinuation", "replaces_id", ("subject_id",))
    first = sa.text("corrects_id IS NULL")
    op.create_index(
        "uq_doserecord_first_entry",
        "doserecord",
        ["subject_id", "dose_date", "slot"],
        unique=True,
        postgresql_where=first,
        sqlite_where=first,
    )
    op.create_index("uq_doserecord_corrects", "doserecord", ["corrects_id"], unique=True)
    standing = sa.text("replaces_id IS NULL")
    op.create_index(
        "uq_discontinuation_first",
        "discontinuation",
        ["subject_id"],
        unique=True,
        postgresql_where=standing,
        sqlite_where=standing,
    )
    op.create_index("uq_discontinuation_replaces", "discontinuation", ["replaces_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_discontinuation_replaces", table_name="discontinuation")
    op.drop_index("uq_discontinuation_first", table_name="discontinuation")
    op.drop_index("uq_doserecord_corrects", table_name="doserecord")
    op.drop_index("uq_doserecord_first_entry", table_name="doserecord")
    with op.batch_alter_table("discontinuation", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_discontinuation_replaces_id_discontinuation", type_="foreignkey"
        )
        batch_op.drop_column("replaces_id")
    with op.batch_alter_table("doserecord", schema=None) as batch_op:
        batch_op.drop_constraint("fk_doserecord_corrects_id_doserecord", type_="foreignkey")
        batch_op.drop_column("corrects_id")
