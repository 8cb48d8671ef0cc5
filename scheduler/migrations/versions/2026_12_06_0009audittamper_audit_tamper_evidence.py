"""A tamper-evident audit trail: the audit entries are hash-chained, and triggers refuse UPDATE
and DELETE (and, on PostgreSQL, TRUNCATE) on the audit table and on the clinical record tables,
which are corrected by new records, never edited.

Existing entries get their chain here, in id order. The hash is computed as
``scheduler.kernel.audit_chain.entry_hash`` does; it is restated below because a migration must
keep producing what it produced when it was written (tests/kernel/test_audit_tamper.py checks
that a backfilled chain verifies).

Later migrations that alter one of these tables on SQLite with ``batch_alter_table`` recreate
the table, which drops its triggers: they must create them again (``_create_triggers``).

Revision ID: 0009audittamper
Revises: 0013recordconstraints
Create Date: 2026-12-06 12:00:00
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
from alembic import op

import scheduler.models.columns

revision: str = "0009audittamper"
down_revision: str | Sequence[str] | None = "0013recordconstraints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = (
    "auditentry",
    "doserecord",
    "hold",
    "resumption",
    "discontinuation",
    "adverseevent",
    "visitrecord",
    "day1check",
    "void",
    "dispensing",
    "drugreturn",
    "reconciliationreview",
    "preparation",
)
GENESIS = "0" * 64

_AUDIT = sa.table(
    "auditentry",
    sa.column("id", sa.Integer()),
    sa.column("at", scheduler.models.columns.UtcDateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject_id", sa.Integer()),
    sa.column("entity", sa.String()),
    sa.column("entity_id", sa.Integer()),
    sa.column("old_value", sa.Text()),
    sa.column("new_value", sa.Text()),
    sa.column("reason", sa.String()),
    sa.column("prev_hash", sa.String()),
    sa.column("entry_hash", sa.String()),
)


def _hash(prev_hash: str, row: sa.Row) -> str:  # type: ignore[type-arg]
    canonical = json.dumps(
        [
            prev_hash,
            row.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            row.actor,
            row.action,
            row.subject_id,
            row.entity,
            row.entity_id,
            row.old_value,
            row.new_value,
            row.reason,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _backfill_chain() -> None:
    connection = op.get_bind()
    prev_hash, after = GENESIS, 0
    while True:
        rows = connection.execute(
            sa.select(_AUDIT).where(_AUDIT.c.id > after).order_by(_AUDIT.c.id).limit(1000)
        ).all()
        if not rows:
            return
        links = []
        for row in rows:
            digest = _hash(prev_hash, row)
            links.append({"entry_id": row.id, "prev_hash": prev_hash, "entry_hash": digest})
            prev_hash, after = digest, row.id
        connection.execute(
            _AUDIT.update()
            .where(_AUDIT.c.id == sa.bindparam("entry_id"))
            .values(prev_hash=sa.bindparam("prev_hash"), entry_hash=sa.bindparam("entry_hash")),
            links,
        )


_PG_FUNCTION = """
CREATE FUNCTION dosing_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on %: the table is append-only (records are corrected by new records)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$
"""


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
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
    _backfill_chain()
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("entry_hash", existing_type=sa.String(length=64), nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
    for table in APPEND_ONLY:
        _create_triggers(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_triggers(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS dosing_refuse_change()")
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
