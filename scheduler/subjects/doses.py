"""Recording doses taken or missed. A second record of the same slot is a correction and needs a
reason; the earlier record stays in the database and in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, tzinfo

from sqlalchemy import bindparam
from sqlmodel import func, select

from scheduler import core
from scheduler.core.dosing_days import DoseSlot
from scheduler.core.times import local_instant
from scheduler.errors import Conflict, InputError
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text, not_in_future, parse_date, parse_time
from scheduler.models import DoseRecord

_LAST_OF_SLOT = select(func.max(DoseRecord.id)).where(
    DoseRecord.subject_id == bindparam("subject"),
    DoseRecord.dose_date == bindparam("day"),
    DoseRecord.slot == bindparam("slot"),
)
"""What a new record corrects: the slot's latest, voided or not. Built once, as the other
statements of a write."""


@dataclass(frozen=True)
class RecordedDose:
    record: DoseRecord
    slot: DoseSlot
    corrected: bool


def record_dose(
    unit: Unit,
    code: str,
    *,
    on: str | date,
    taken: bool,
    at: str | time | None = None,
    slot: int = 1,
    reason: str = "",
) -> RecordedDose:
    state = subject_state(unit.session, code, unit.now)
    day = not_in_future("date", parse_date("date", on), state.today)
    taken_at = parse_time("at", at) if at is not None else None
    if taken_at is not None and not taken:
        raise InputError("at", "only a taken dose has a time; a missed dose has none")
    if taken_at is not None:
        _not_after_now(day, taken_at, state.anchors.time_zone, unit.now)
    reason = check_text("reason", reason, required=False)
    earlier = [r for r in state.history.doses if (r.on, r.slot) == (day, slot)]
    if earlier and not reason:
        was = "taken" if earlier[-1].taken else "missed"
        raise Conflict(
            "date", f"a dose is already recorded for {day} ({was}); give --reason to correct it"
        )
    candidate = core.DoseOutcome(id=-1, on=day, taken=taken, slot=slot, taken_at=taken_at)
    plan = state.with_history(doses=(*state.history.doses, candidate))
    subject_id = state.subject.id or 0
    row = DoseRecord(
        subject_id=subject_id,
        dose_date=day,
        slot=slot,
        corrects_id=unit.session.exec(
            _LAST_OF_SLOT, params={"subject": subject_id, "day": day, "slot": slot}
        ).one(),
        taken=taken,
        taken_at=taken_at,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    new = {"date": day, "slot": slot, "taken": taken, "at": taken_at}
    unit.audit(
        "dose.correct" if earlier else "dose.record",
        entity="dose",
        entity_id=row.id,
        subject_id=state.subject.id,
        old=(
            {"record": earlier[-1].id, "taken": earlier[-1].taken, "at": earlier[-1].taken_at}
            if earlier
            else None
        ),
        new=new,
        reason=reason,
    )
    stored = replace(candidate, id=row.id or 0)
    unit.knows(subject_id, replace(state.history, doses=(*state.history.doses, stored)))
    recorded = next(s for s in plan.doses() if s.record_id == -1)
    return RecordedDose(record=row, slot=recorded, corrected=bool(earlier))


def _not_after_now(day: date, taken_at: time, zone: tzinfo, now: datetime) -> None:
    """A dose cannot have been taken later than now; a time typed for a later hour of today is
    a slip (often a.m. for p.m.), and storing it would judge the dose against a future time."""
    if local_instant(day, taken_at, zone) > now:
        local_now = now.astimezone(zone)
        raise InputError(
            "at",
            f"{taken_at:%H:%M} on {day} is later than now ({local_now:%H:%M} on "
            f"{local_now.date()} in the subject's time zone)",
        )
