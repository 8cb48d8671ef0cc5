"""The audit trail across subjects, newest first, for the audit page and API. One subject's
trail is ``records.audit_of`` (what ``dosing audit`` prints).

Reminder addresses (a patient's email address or phone number) are contact details: the audit
views show them only to the roles that manage reminders, and to nobody once the subject's
contact details were erased (``scheduler.reminders.erasure``; the stored entries cannot be
changed). Everyone else sees that an address was set or changed, not which."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, col, select

from scheduler.kernel.sites import site_scope
from scheduler.kernel.subject_state import get_subject
from scheduler.kernel.validation import check_code
from scheduler.models import AuditEntry, Subject
from scheduler.reminders.erasure import ERASED_ACTION
from scheduler.reminders.outbox import HIDDEN_ADDRESS, MANAGES_REMINDERS
from scheduler.subjects.records import audit_of


@dataclass(frozen=True)
class AuditLine:
    entry: AuditEntry
    subject: str | None
    old_value: str | None
    """The entry's old value as the viewer may see it (JSON)."""
    new_value: str | None


def _masked(value: str | None) -> str | None:
    if value is None:
        return None
    data = json.loads(value)
    if isinstance(data, dict) and data.get("address"):
        data["address"] = HIDDEN_ADDRESS
        return json.dumps(data, sort_keys=True)
    return value


def _line(entry: AuditEntry, code: str | None, hide: bool) -> AuditLine:
    if hide and entry.entity == "reminderpreference":
        return AuditLine(entry, code, _masked(entry.old_value), _masked(entry.new_value))
    return AuditLine(entry, code, entry.old_value, entry.new_value)


def _erased(session: Session) -> set[int]:
    """Subjects whose contact details were erased."""
    found = session.exec(
        select(AuditEntry.subject_id).where(AuditEntry.action == ERASED_ACTION).distinct()
    )
    return {subject_id for subject_id in found if subject_id is not None}


def audit_lines(
    session: Session, subject: str | None = None, limit: int = 500, *, role: str
) -> list[AuditLine]:
    """The latest ``limit`` entries, of one subject when ``subject`` is given, as a member of
    staff with ``role`` may see them. An account bound to sites sees only the entries about
    those sites' subjects: accounts, sites and other sites' subjects are study-wide business."""
    erased = _erased(session)
    manager = role in MANAGES_REMINDERS
    if subject:
        found = get_subject(session, check_code("subject", subject))
        entries = audit_of(session, found.code)
        hide = not manager or found.id in erased
        return [_line(e, found.code, hide) for e in reversed(entries[-limit:])]
    query = select(AuditEntry, Subject.code).join(
        Subject, col(Subject.id) == AuditEntry.subject_id, isouter=True
    )
    scope = site_scope(session)
    if scope is not None:
        query = query.where(col(Subject.site_id).in_(scope))
    rows = session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)).all()
    return [_line(entry, code, not manager or entry.subject_id in erased) for entry, code in rows]
