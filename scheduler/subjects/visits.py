"""Recording visits as done. Outside the window a visit is a protocol deviation: it is recorded
only with a reason, and the error says which dates the window allows."""

from __future__ import annotations

from datetime import date

from scheduler import core
from scheduler.core.visits import VisitPlan
from scheduler.errors import Conflict, InputError, NotFound, RuleViolation
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text, not_in_future, parse_date
from scheduler.models import VisitRecord


def record_visit(
    unit: Unit, code: str, visit_code: str, *, on: str | date, reason: str = ""
) -> VisitPlan:
    state = subject_state(unit.session, code, unit.now)
    day = not_in_future("on", parse_date("on", on), state.today)
    reason = check_text("reason", reason, required=False)
    plan = state.plan()
    visit = plan.visit(visit_code)
    if visit is None:
        codes = ", ".join(v.code for v in plan.visits)
        raise NotFound("code", f"{visit_code!r} is not a visit of {code}'s plan ({codes})")
    if visit.status == "done" and not reason:
        raise Conflict(
            "code", f"{visit_code} is already recorded on {visit.actual}; give --reason to correct"
        )
    if visit.status == "cancelled":
        raise RuleViolation("code", f"{visit_code} is cancelled: treatment was discontinued")
    if not visit.in_window(day) and not reason:
        raise InputError(
            "on",
            f"Expected a date between {visit.window_start} and {visit.window_end} for "
            f"{visit_code}. Got {day}. Give --reason to record it as a deviation.",
        )
    deviation = reason if not visit.in_window(day) else ""
    candidate = core.VisitDone(id=-1, code=visit_code, on=day, deviation=deviation)
    after = state.with_history(visits=(*state.history.visits, candidate))
    row = VisitRecord(
        subject_id=state.subject.id or 0,
        code=visit_code,
        actual_date=day,
        deviation=deviation,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "visit.correct" if visit.status == "done" else "visit.record",
        entity="visit",
        entity_id=row.id,
        subject_id=state.subject.id,
        old={"actual": visit.actual} if visit.actual else None,
        new={"code": visit_code, "on": day, "target": visit.target},
        reason=reason,
    )
    recorded = after.visit(visit_code)
    assert recorded is not None
    return recorded
