"""The language a patient reads, and changing it.

Chosen at enrolment (the site's unless named), changed later with a reason and an audit entry.
A change marks the subject as changed in its unit of work, so the projections re-word what the
patient is sent next: the feed's events (a new SEQUENCE, since their text changed) and the
pending reminders' titles and bodies.
"""

from __future__ import annotations

from scheduler.errors import InputError
from scheduler.kernel.subject_state import get_subject
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_language, check_text
from scheduler.models import Subject


def change_language(unit: Unit, code: str, language: str, reason: str) -> Subject:
    """Set the subject's language; the same language again is refused (nothing would change)."""
    reason = check_text("reason", reason, required=True)
    chosen = check_language(language)
    subject = get_subject(unit.session, code)
    if subject.language == chosen:
        raise InputError("language", f"{code} already reads {chosen}")
    old, subject.language = subject.language, chosen
    unit.session.add(subject)
    unit.audit(
        "subject.change_language",
        entity="subject",
        entity_id=subject.id,
        subject_id=subject.id,
        old=old,
        new=chosen,
        reason=reason,
    )
    return subject
