"""The audit trail as a hash chain: each entry carries the hash of the entry before it.

Triggers (migration 0009) refuse UPDATE and DELETE on the audit table, but the owner of the
database, or anyone who disables the triggers, can still edit it. The chain makes such an edit
visible: an entry's hash covers its content and the previous entry's hash, so changing, removing
or inserting an entry breaks the chain at that point, and ``verify_chain`` names it. The chain
is per database and runs in ``id`` order, which is also the order of writing: a unit of work
adds its entries only at its end (``seal``), under a lock that lets one writer at a time read the
head of the chain and append to it. Removing the newest entries leaves a shorter chain that is
still whole; ``verify_chain`` therefore reports the head's hash and count, for operators to note
down outside the database (docs/audit-trail.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, text
from sqlmodel import Session, col, select

from scheduler.models import AuditEntry

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry of a database."""
CHAIN_LOCK = 0x646F73696E67  # "dosing"
"""The PostgreSQL advisory lock key that serialises appending to the chain."""


def entry_hash(
    prev_hash: str,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject_id: int | None,
    entity: str,
    entity_id: int | None,
    old_value: str | None,
    new_value: str | None,
    reason: str,
) -> str:
    """SHA-256 of the previous hash and every stored field but the id (assigned by the database
    on insert; the link to the previous entry already fixes the order)."""
    canonical = json.dumps(
        [
            prev_hash,
            at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            actor,
            action,
            subject_id,
            entity,
            entity_id,
            old_value,
            new_value,
            reason,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hash_of(entry: AuditEntry, prev_hash: str) -> str:
    return entry_hash(
        prev_hash,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject_id=entry.subject_id,
        entity=entry.entity,
        entity_id=entry.entity_id,
        old_value=entry.old_value,
        new_value=entry.new_value,
        reason=entry.reason,
    )


def _take_chain_lock(session: Session) -> None:
    """Make this transaction the only one appending until it ends. PostgreSQL: an advisory
    lock, released at commit, after which the next holder reads the committed head. SQLite
    needs none: a unit of work holds the database's write lock from its BEGIN IMMEDIATE
    (``scheduler.db.transaction``), so no other writer can move the head under it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


_HEAD = select(AuditEntry.entry_hash).order_by(col(AuditEntry.id).desc()).limit(1)
_TABLE = AuditEntry.__table__  # type: ignore[attr-defined]
_INSERT = insert(_TABLE)
_COLUMNS = tuple(c.name for c in _TABLE.c if c.name != "id")
"""Built once. The entries go in as rows of the table, not through the session: nothing
reads them back in the unit, and the ORM's flush cost more than the insert."""


def seal(session: Session, entries: Sequence[AuditEntry]) -> None:
    """Link ``entries`` to the head of the chain, in order, and insert them; called by the unit
    of work as its last write, so that the lock is held only until the commit that follows."""
    if not entries:
        return
    _take_chain_lock(session)
    prev_hash = session.exec(_HEAD).first() or GENESIS
    for entry in entries:
        entry.prev_hash = prev_hash
        entry.entry_hash = prev_hash = _hash_of(entry, prev_hash)
    session.execute(
        _INSERT, [{name: getattr(entry, name) for name in _COLUMNS} for entry in entries]
    )


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry at which the chain does not hold, and how."""

    entry_id: int
    at: datetime
    action: str
    problem: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    """Entries checked: all of them when the chain is whole, up to the break otherwise."""
    head: str
    """The hash of the last entry checked (``GENESIS`` for an empty trail)."""
    broken: ChainBreak | None


def verify_chain(session: Session, batch: int = 1000) -> ChainReport:
    """Walk the whole trail in id order and recompute every hash; stop at the first entry whose
    content does not give its stored hash or whose link does not name the entry before it."""
    prev_hash, checked, after = GENESIS, 0, 0
    while True:
        rows = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.id) > after)
            .order_by(col(AuditEntry.id))
            .limit(batch)
        ).all()
        if not rows:
            return ChainReport(checked, prev_hash, None)
        for entry in rows:
            problem = ""
            if entry.prev_hash != prev_hash:
                problem = (
                    "its link to the entry before it is broken "
                    "(an entry before it was removed, inserted or changed)"
                )
            elif entry.entry_hash != _hash_of(entry, prev_hash):
                problem = "its content was changed after it was written"
            if problem:
                return ChainReport(
                    checked, prev_hash, ChainBreak(entry.id or 0, entry.at, entry.action, problem)
                )
            prev_hash, checked, after = entry.entry_hash, checked + 1, entry.id or 0
        session.expunge_all()
