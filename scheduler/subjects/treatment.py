"""Holds, resumptions and discontinuation: the investigator's decisions about dosing."""

from __future__ import annotations

from datetime import date

from sqlmodel import func, select

from scheduler import core
from scheduler.core.inputs import DISCONTINUATION_REASONS
from scheduler.core.limit_overrides import limits_passed
from scheduler.errors import Conflict, InputError, NotFound
from scheduler.kernel.limits import audit_override, require_reason
from scheduler.kernel.subject_state import SubjectState, subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text, not_in_future, parse_date
from scheduler.models import AdverseEvent, Discontinuation, Hold, Resumption


def _doses_on_or_after(state: SubjectState, day: date, strictly_after: bool) -> list[date]:
    latest = {(r.on, r.slot): r for r in state.history.doses}
    return sorted(
        {on for (on, _), _r in latest.items() if (on > day if strictly_after else on >= day)}
    )


def hold(
    unit: Unit,
    code: str,
    *,
    start: str | date,
    reason: str,
    adverse_event_id: int | None = None,
) -> core.Plan:
    state = subject_state(unit.session, code, unit.now)
    day = parse_date("from", start)
    reason = check_text("reason", reason, required=True)
    last_day = state.plan().cycles[-1].end
    if day > last_day:
        raise InputError(
            "from", f"{day} is after the last day of treatment ({last_day}): nothing to hold"
        )
    recorded = _doses_on_or_after(state, day, strictly_after=False)
    if recorded:
        listed = ", ".join(str(d) for d in recorded[:5])
        raise Conflict(
            "from",
            f"doses are recorded on {listed} (on or after {day}); correct those records first",
        )
    if adverse_event_id is not None:
        event = unit.session.get(AdverseEvent, adverse_event_id)
        if event is None or event.subject_id != state.subject.id:
            raise NotFound("ae", f"no adverse event {adverse_event_id} for {code}")
    plan = state.with_history(
        holds=(*state.history.holds, core.HoldStart(id=-1, on=day, reason=reason))
    )
    row = Hold(
        subject_id=state.subject.id or 0,
        start_date=day,
        reason=reason,
        adverse_event_id=adverse_event_id,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "treatment.hold",
        entity="hold",
        entity_id=row.id,
        subject_id=state.subject.id,
        new={"from": day, "adverse_event": adverse_event_id},
        reason=reason,
    )
    return plan


def resume(
    unit: Unit,
    code: str,
    *,
    on: str | date,
    dose_mg: float | None = None,
    reason: str = "",
) -> core.Plan:
    """Resume dosing. Ending a hold that outlasted the hold limit, or starting a cycle later
    than the delay limit allows, needs the investigator's reason (``limits``)."""
    state = subject_state(unit.session, code, unit.now)
    day = parse_date("on", on)
    reason = check_text("reason", reason, required=False)
    if dose_mg is not None and state.protocol.level_for(dose_mg) is None:
        levels = ", ".join(f"{lvl.dose_mg:g}" for lvl in state.protocol.dose_levels)
        raise InputError(
            "dose_mg", f"{dose_mg:g} mg is not a dose level of {state.protocol.id} ({levels} mg)"
        )
    before = state.plan()
    plan = state.with_history(
        resumptions=(*state.history.resumptions, core.HoldEnd(id=-1, on=day, dose_mg=dose_mg))
    )
    passed = limits_passed(before, plan)
    require_reason(passed, reason)
    row = Resumption(
        subject_id=state.subject.id or 0,
        resume_date=day,
        dose_mg=dose_mg,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "treatment.resume",
        entity="resumption",
        entity_id=row.id,
        subject_id=state.subject.id,
        old={"dose_mg": before.dose_mg},
        new={"on": day, "dose_mg": dose_mg},
        reason=reason,
    )
    audit_override(
        unit, passed, reason, subject_id=state.subject.id, entity="resumption", entity_id=row.id
    )
    return plan


def discontinue(unit: Unit, code: str, *, on: str | date, reason: str, note: str = "") -> core.Plan:
    state = subject_state(unit.session, code, unit.now)
    day = not_in_future("on", parse_date("on", on), state.today)
    if reason not in DISCONTINUATION_REASONS:
        raise InputError("reason", f"{reason!r} is not one of {', '.join(DISCONTINUATION_REASONS)}")
    note = check_text("note", note, required=False)
    if state.history.discontinuation is not None:
        earlier = state.history.discontinuation
        raise Conflict(
            "on",
            f"already discontinued on {earlier.on} ({earlier.reason}); "
            "void that record to change it",
        )
    after = _doses_on_or_after(state, day, strictly_after=True)
    if after:
        listed = ", ".join(str(d) for d in after[:5])
        raise Conflict("on", f"doses are recorded after {day} ({listed}); correct those first")
    plan = state.with_history(discontinuation=core.TreatmentStop(id=-1, on=day, reason=reason))
    row = Discontinuation(
        subject_id=state.subject.id or 0,
        on_date=day,
        reason=reason,
        note=note,
        replaces_id=unit.session.exec(
            select(func.max(Discontinuation.id)).where(
                Discontinuation.subject_id == state.subject.id
            )
        ).one(),
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "treatment.discontinue",
        entity="discontinuation",
        entity_id=row.id,
        subject_id=state.subject.id,
        old={"status": state.plan().status},
        new={"on": day, "reason": reason},
        reason=note or reason,
    )
    return plan
