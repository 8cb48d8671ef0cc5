"""The audit trail across subjects, newest first, for the audit page. One subject's trail is
``records.audit_of`` (what ``dosing audit`` prints)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from scheduler.kernel.subject_state import get_subject
from scheduler.kernel.validation import check_code
from scheduler.models import AuditEntry, Subject
from scheduler.subjects.records import audit_of


@dataclass(frozen=True)
class AuditLine:
    entry: AuditEntry
    subject: str | None


def audit_lines(session: Session, subject: str | None = None, limit: int = 500) -> list[AuditLine]:
    """The latest ``limit`` entries, of one subject when ``subject`` is given."""
    if subject:
        code = get_subject(session, check_code("subject", subject)).code
        entries = audit_of(session, code)
        return [AuditLine(e, code) for e in reversed(entries[-limit:])]
    rows = session.exec(
        select(AuditEntry, Subject.code)
        .join(Subject, col(Subject.id) == AuditEntry.subject_id, isouter=True)
        .order_by(col(AuditEntry.id).desc())
        .limit(limit)
    ).all()
    return [AuditLine(entry, code) for entry, code in rows]
