"""Erasing a subject's contact details when they withdraw consent, keeping the clinical record.

The contact details the scheduler holds are the reminder address (an email address or a phone
number) in the subject's reminder preference and in their reminder outbox rows, and the short
hash of that address in each row's idempotency key. Those tables are not append-only, so the
values are blanked in place: the preference is opted out with an empty address, and every
reminder row of the subject loses its address and gets a key that no longer derives from it
(queued ones are cancelled by the reminder refresh as for any opt-out). Dose records, visits
and the rest of the clinical record are untouched.

The audit entry says that the details were erased, by whom, when and why, and keeps no value.
Earlier audit entries (an opt-in with its address) cannot be changed, the trail being
append-only and hash-chained: the audit views mask the addresses of a subject whose details
were erased, for every role (``scheduler.subjects.audit_log``).
"""

from __future__ import annotations

from sqlalchemy import String, cast, literal, update
from sqlmodel import col, select

from scheduler.errors import InputError
from scheduler.kernel.subject_state import get_subject
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text
from scheduler.models import Reminder, ReminderPreference

ERASED_ACTION = "reminders.contact_erased"


def erase_contact_details(unit: Unit, code: str, *, reason: str) -> int:
    """Blank the subject's reminder address everywhere it is stored; returns how many reminder
    rows lost theirs. Refused when nothing is stored, so that nothing is audited for nothing."""
    reason = check_text("reason", reason, required=True)
    subject = get_subject(unit.session, code)
    preference = unit.session.exec(
        select(ReminderPreference).where(ReminderPreference.subject_id == subject.id)
    ).first()
    stored = unit.session.exec(
        select(Reminder.id).where(
            col(Reminder.subject_id) == subject.id, col(Reminder.address) != ""
        )
    ).all()
    if (preference is None or not preference.address) and not stored:
        raise InputError("subject", f"no contact details are stored for {subject.code}")
    if preference is not None:
        preference.opted_in = False
        preference.address = ""
        preference.updated_at, preference.updated_by = unit.now, unit.actor
        unit.session.add(preference)
    unit.session.execute(
        update(Reminder)
        .where(col(Reminder.id).in_(stored))
        .values(
            address="",
            idempotency_key=literal("erased.") + cast(Reminder.id, String),
            updated_at=unit.now,
        ),
        execution_options={"synchronize_session": False},
    )
    unit.session.flush()
    unit.audit(
        ERASED_ACTION,
        entity="reminderpreference",
        entity_id=None if preference is None else preference.id,
        subject_id=subject.id,
        reason=reason,
    )
    return len(stored)
