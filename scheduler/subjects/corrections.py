"""Voiding a record entered in error. The record stays; a void row with a reason strikes it out,
and the plan must still make sense without it (void a resumption before its hold)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from scheduler import core
from scheduler.errors import Conflict, InputError, NotFound
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text
from scheduler.models import (
    VOIDABLE_KINDS,
    AdverseEvent,
    Discontinuation,
    DoseRecord,
    Hold,
    Resumption,
    VisitRecord,
    Void,
)

_TABLES: dict[str, Any] = {
    "dose": DoseRecord,
    "hold": Hold,
    "resumption": Resumption,
    "adverse_event": AdverseEvent,
    "discontinuation": Discontinuation,
    "visit": VisitRecord,
}


def void_record(unit: Unit, code: str, kind: str, record_id: int, reason: str) -> core.Plan:
    if kind not in VOIDABLE_KINDS:
        raise InputError("kind", f"{kind!r} is not one of {', '.join(VOIDABLE_KINDS)}")
    reason = check_text("reason", reason, required=True)
    state = subject_state(unit.session, code, unit.now)
    row = unit.session.get(_TABLES[kind], record_id)
    if row is None or row.subject_id != state.subject.id:
        raise NotFound("id", f"no {kind} record {record_id} for {code}")
    already = unit.session.exec(
        select(Void).where(Void.record_kind == kind, Void.record_id == record_id)
    ).first()
    if already is not None:
        raise Conflict("id", f"{kind} record {record_id} was already voided: {already.reason}")
    history = state.history
    by_kind: dict[str, dict[str, Any]] = {
        "dose": {"doses": tuple(r for r in history.doses if r.id != record_id)},
        "hold": {"holds": tuple(r for r in history.holds if r.id != record_id)},
        "resumption": {"resumptions": tuple(r for r in history.resumptions if r.id != record_id)},
        "adverse_event": {
            "adverse_events": tuple(r for r in history.adverse_events if r.id != record_id)
        },
        "discontinuation": {"discontinuation": None},
        "visit": {"visits": tuple(r for r in history.visits if r.id != record_id)},
    }
    plan = state.with_history(**by_kind[kind])
    void = Void(
        subject_id=state.subject.id or 0,
        record_kind=kind,
        record_id=record_id,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(void)
    unit.session.flush()
    unit.audit(
        "record.void",
        entity=kind,
        entity_id=record_id,
        subject_id=state.subject.id,
        old=row.model_dump(exclude={"recorded_at"}),
        new=None,
        reason=reason,
    )
    return plan
