"""Adverse events and the action the protocol's rule table proposes for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import col, func, select

from scheduler import core
from scheduler.errors import Conflict, InputError
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text, not_in_future, parse_date
from scheduler.models import AdverseEvent, Void
from scheduler.protocols.grading_table import ctcae_v5


@dataclass(frozen=True)
class RecordedEvent:
    record: AdverseEvent
    proposal: core.Proposal
    dose_mg: float

    def as_json(self) -> dict[str, Any]:
        """One shape for `dosing ae --json` and the API's answer."""
        return {
            "id": self.record.id,
            "term": self.record.term,
            "grade": self.record.grade,
            "onset": self.record.onset.isoformat(),
            "related": self.record.related,
            "dose_mg": self.dose_mg,
            "proposal": {
                "action": self.proposal.action,
                "rule": self.proposal.rule_id,
                "reason": self.proposal.reason,
                "resume_dose_mg": self.proposal.resume_dose_mg,
            },
        }


def _refuse_duplicate(
    unit: Unit, subject_id: int, term: str, grade: int, onset: date, reason: str
) -> None:
    if reason:
        return
    voided = select(Void.record_id).where(Void.record_kind == "adverse_event")
    first = unit.session.exec(
        select(AdverseEvent.id).where(
            AdverseEvent.subject_id == subject_id,
            func.lower(AdverseEvent.term) == term.lower(),
            AdverseEvent.grade == grade,
            AdverseEvent.onset == onset,
            col(AdverseEvent.id).not_in(voided),
        )
    ).first()
    if first is not None:
        raise Conflict(
            "term",
            f"adverse event {first} already records {term} grade {grade} with onset {onset}; "
            "give a reason to record a second one",
        )


def record_adverse_event(
    unit: Unit,
    code: str,
    *,
    term: str,
    grade: int,
    onset: str | date,
    related: bool = True,
    intolerable: bool = False,
    reason: str = "",
) -> RecordedEvent:
    """Record an adverse event and the action the protocol proposes for it. A second event with
    the same term, grade and onset for the subject is refused as a duplicate naming the first,
    unless ``reason`` says why it is a different event."""
    state = subject_state(unit.session, code, unit.now)
    term = check_text("term", term, required=True, limit=200)
    reason = check_text("reason", reason, required=False)
    if not 1 <= grade <= 5:
        raise InputError("grade", f"{grade} is not a CTCAE grade (1 to 5)")
    highest = ctcae_v5().term_max_grade(term)
    if grade > highest:
        raise InputError(
            "grade", f"{term} has no grade {grade} in CTCAE v5.0 (its highest is {highest})"
        )
    if intolerable and grade != 2:
        raise InputError("intolerable", "only a grade 2 event is judged tolerable or not")
    day = not_in_future("onset", parse_date("onset", onset), state.today)
    screening = min(visit.window_start for visit in state.plan().visits)
    if day < screening:
        raise InputError(
            "onset", f"{day} is before screening opens on {screening}: not a study event"
        )
    _refuse_duplicate(unit, state.subject.id or 0, term, grade, day, reason)
    candidate = core.ToxicityReport(
        id=-1, term=term, grade=grade, onset=day, related=related, intolerable=intolerable
    )
    plan = state.with_history(adverse_events=(*state.history.adverse_events, candidate))
    assessed = plan.adverse_events[-1]
    row = AdverseEvent(
        subject_id=state.subject.id or 0,
        term=term,
        grade=grade,
        onset=day,
        related=related,
        intolerable=intolerable,
        proposed_action=assessed.proposal.action,
        proposal_rule=assessed.proposal.rule_id,
        proposal_reason=assessed.proposal.reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "adverse_event.record",
        entity="adverse_event",
        entity_id=row.id,
        subject_id=state.subject.id,
        new={
            "term": term,
            "grade": grade,
            "onset": day,
            "related": related,
            "proposed": assessed.proposal.action,
        },
        reason=reason,
    )
    return RecordedEvent(record=row, proposal=assessed.proposal, dose_mg=assessed.dose_mg)
