"""A subject's eligibility checklist: answers, lab criteria filled from the results, waivers;
and the gate that refuses C1D1 until every criterion is met or waived."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from scheduler.core.eligibility import Standing, criterion_met, may_enrol
from scheduler.core.lab_grades import Measured
from scheduler.errors import Conflict, InputError
from scheduler.kernel.subject_state import SubjectState, subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text
from scheduler.labs.history import measured, subject_labs
from scheduler.models import EligibilityAnswer, EligibilityWaiver
from scheduler.protocols.schema import EligibilityCriterion


@dataclass(frozen=True)
class ChecklistLine:
    criterion: EligibilityCriterion
    answer: str
    """As answered, or the lab values read ("ALT 1.2 x ULN"); empty while unanswered."""
    source: str
    met: bool | None
    waiver: EligibilityWaiver | None

    @property
    def standing(self) -> Standing:
        return Standing(self.criterion.code, self.met, self.waiver is not None)

    def as_json(self) -> dict[str, Any]:
        c = self.criterion
        return {
            "code": c.code,
            "kind": c.kind,
            "text": c.text,
            "answer": self.answer,
            "source": self.source,
            "met": self.met,
            "waived": self.waiver.reason if self.waiver is not None else None,
        }


def _find(state: SubjectState, code: str) -> EligibilityCriterion:
    for criterion in state.protocol.eligibility:
        if criterion.code.casefold() == code.strip().casefold():
            return criterion
    known = ", ".join(c.code for c in state.protocol.eligibility) or "none"
    raise InputError("criterion", f"{code!r} is not a criterion of the checklist ({known})")


def _lab_values(
    session: Session, state: SubjectState
) -> tuple[dict[str, Measured], dict[str, str]]:
    """Each test's latest clinic result up to C1D1, and how it reads, for lab criteria."""
    labs = subject_labs(session, state)
    first = min(visit.window_start for visit in state.plan().visits)
    values: dict[str, Measured] = {}
    shown: dict[str, str] = {}
    for code in {r.test.code for r in labs.results}:
        found = labs.latest(code, since=first, until=labs.c1d1)
        if found is not None:
            values[code] = measured(found.row)
            shown[code] = f"{code} {found.row.reported} {found.row.unit} ({found.row.taken_on})"
    return values, shown


def checklist(session: Session, state: SubjectState) -> list[ChecklistLine]:
    subject_id = state.subject.id or 0
    answers = {
        a.criterion: a
        for a in session.exec(
            select(EligibilityAnswer)
            .where(EligibilityAnswer.subject_id == subject_id)
            .order_by(col(EligibilityAnswer.id))
        )
    }
    waivers = {
        w.criterion: w
        for w in session.exec(
            select(EligibilityWaiver)
            .where(EligibilityWaiver.subject_id == subject_id)
            .order_by(col(EligibilityWaiver.id))
        )
    }
    values, shown = _lab_values(session, state)
    lines = []
    for criterion in state.protocol.eligibility:
        found = answers.get(criterion.code)
        if criterion.answer == "lab":
            text = "; ".join(shown[t] for t in criterion.tests if t in shown)
            source = "recorded results"
        else:
            text = found.answer if found is not None else ""
            source = found.source_document if found is not None else ""
        met = criterion_met(
            criterion,
            found.answer if found is not None else None,
            found.value if found is not None else None,
            values,
        )
        lines.append(ChecklistLine(criterion, text, source, met, waivers.get(criterion.code)))
    return lines


def answer_criterion(
    unit: Unit, code: str, *, criterion: str, answer: str, source: str
) -> EligibilityAnswer:
    """Answer a yes/no or value criterion, naming the source document; lab criteria are filled
    from the recorded results and refuse a typed answer."""
    state = subject_state(unit.session, code, unit.now)
    found = _find(state, criterion)
    source = check_text("source", source, required=True, limit=200)
    text = check_text("answer", answer, required=True, limit=32).casefold()
    value = None
    if found.answer == "lab":
        raise InputError(
            "criterion", f"{found.code} is read from the recorded results: record the lab"
        )
    if found.answer == "yes_no":
        if text not in ("yes", "no"):
            raise InputError("answer", f"{answer!r}: answer yes or no")
    else:
        try:
            value = float(text)
        except ValueError:
            raise InputError("answer", f"{answer!r} is not a number ({found.text})") from None
    row = EligibilityAnswer(
        subject_id=state.subject.id or 0,
        criterion=found.code,
        answer=text,
        value=value,
        source_document=source,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "eligibility.answer",
        entity="eligibilityanswer",
        entity_id=row.id,
        subject_id=state.subject.id,
        new={"criterion": found.code, "answer": text, "source": source},
    )
    return row


def waive_criterion(unit: Unit, code: str, *, criterion: str, reason: str) -> EligibilityWaiver:
    """An investigator lets the subject start despite a criterion not met (audited)."""
    state = subject_state(unit.session, code, unit.now)
    found = _find(state, criterion)
    reason = check_text("reason", reason, required=True)
    line = next(x for x in checklist(unit.session, state) if x.criterion.code == found.code)
    if line.met is True:
        raise Conflict("criterion", f"{found.code} is met: there is nothing to waive")
    row = EligibilityWaiver(
        subject_id=state.subject.id or 0,
        criterion=found.code,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "eligibility.waive",
        entity="eligibilitywaiver",
        entity_id=row.id,
        subject_id=state.subject.id,
        new={"criterion": found.code},
        reason=reason,
    )
    return row


def require_eligible(session: Session, state: SubjectState) -> None:
    """The gate of C1D1: refused, naming the criteria, until each is met or waived."""
    if not state.protocol.eligibility:
        return
    lines = checklist(session, state)
    if may_enrol([line.standing for line in lines]):
        return
    open_ = [line.criterion.code for line in lines if line.met is not True and line.waiver is None]
    raise Conflict(
        "eligibility",
        f"{state.subject.code} may not start C1D1: criteria not met or not answered: "
        + ", ".join(open_),
    )
