"""Drug accountability: preparation, dispensing and returns as append-only records, and the
reconciliation of what went out against what came back and the doses recorded taken. The
latest record for a subject, cycle and strength counts; a correction is a new record with a
reason, so the first figure is never lost."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import BindParameter, bindparam
from sqlmodel import Session, col, select

from scheduler import core
from scheduler.core.accountability import (
    Reconciliation,
    reconciliation,
)
from scheduler.core.cycles import CyclePlan
from scheduler.core.dose_changes import (
    MidCycleChange,
    Readiness,
    may_prepare,
    mid_cycle_changes,
)
from scheduler.core.limit_overrides import limits_passed
from scheduler.eligibility.checklist import require_eligible
from scheduler.errors import Conflict, InputError, NotFound, RuleViolation
from scheduler.kernel.limits import audit_override, require_reason
from scheduler.kernel.subject_state import SubjectState, subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text, not_in_future, parse_date
from scheduler.models import (
    Day1Check,
    Dispensing,
    DispensingNotNeeded,
    DrugReturn,
    Preparation,
    ReconciliationReview,
)
from scheduler.pharmacy.capsules import capsules_for
from scheduler.pharmacy.working_days import working_days_before
from scheduler.protocols.schema import Protocol

PREPARED = "prepared"
RELABELLED = "relabelled"
RETURNED = "returned"
_ACTIVE = (PREPARED, RELABELLED)
_MAX_CAPSULES = 10_000
_Row = TypeVar("_Row", Preparation, Dispensing, DrugReturn)
_Table = TypeVar(
    "_Table",
    Day1Check,
    Preparation,
    Dispensing,
    DrugReturn,
    ReconciliationReview,
    DispensingNotNeeded,
)


@dataclass(frozen=True)
class Records:
    """One subject's pharmacy records, oldest first."""

    checks: tuple[Day1Check, ...] = ()
    preparations: tuple[Preparation, ...] = ()
    dispensings: tuple[Dispensing, ...] = ()
    returns: tuple[DrugReturn, ...] = ()
    reviews: tuple[ReconciliationReview, ...] = ()
    not_needed: tuple[DispensingNotNeeded, ...] = ()

    def day1_check(self, cycle: int, on: date | None = None) -> Day1Check | None:
        """The check that counts for a cycle: the latest assessed, and of one day the latest
        recorded (as the plan reads them); with ``on``, the one that counts for that day."""
        found = [c for c in self.checks if c.cycle == cycle and on in (None, c.assessed_on)]
        return max(found, key=lambda c: (c.assessed_on, c.id or 0), default=None)

    def prepared(self, cycle: int) -> dict[float, Preparation]:
        """The latest preparation record per strength for a cycle, still on the shelf."""
        latest = _latest((p for p in self.preparations if p.cycle == cycle), "strength_mg")
        return {s: p for s, p in latest.items() if p.action in _ACTIVE}

    def dispensed(self, cycle: int) -> dict[float, Dispensing]:
        return _latest((d for d in self.dispensings if d.cycle == cycle), "strength_mg")

    def returned(self, cycle: int) -> dict[float, DrugReturn]:
        return _latest((r for r in self.returns if r.cycle == cycle), "strength_mg")

    def waived(self, cycle: int, needed_on: date) -> DispensingNotNeeded | None:
        """The record saying the capsules a cycle needed by ``needed_on`` will not be dispensed."""
        found = [n for n in self.not_needed if n.cycle == cycle and n.needed_on == needed_on]
        return found[-1] if found else None

    def change_dispensed(self, change: MidCycleChange, protocol: Protocol) -> bool:
        """Whether the capsules of a dose changed mid-cycle are out: every strength of the new
        level dispensed for that cycle since the hold before the change began."""
        dispensed = self.dispensed(change.cycle)
        return all(
            line.strength_mg in dispensed
            and dispensed[line.strength_mg].dispensed_on >= change.hold_start
            for line in capsules_for(protocol, change.after_mg)[1]
        )


def awaiting_new_capsules(plan: core.Plan, records: Records) -> tuple[MidCycleChange, ...]:
    """Doses changed mid-cycle whose capsules are neither dispensed nor marked not needed:
    until they are, the patient holds only the old strength for those doses."""
    return tuple(
        change
        for change in mid_cycle_changes(plan)
        if not records.change_dispensed(change, plan.protocol)
        and records.waived(change.cycle, change.resumed_on) is None
    )


def _latest(rows: Iterable[_Row], key: str) -> dict[float, _Row]:
    latest: dict[float, _Row] = {}
    for row in rows:
        latest[getattr(row, key)] = row
    return latest


def new_capsule_days(plan: core.Plan, records: Records) -> frozenset[date]:
    """Days whose dose needs capsules of a new strength the patient has not been given yet:
    what the feed, the reminders and the handout tell the patient to collect first."""
    return frozenset(
        d for change in awaiting_new_capsules(plan, records) for d in change.dose_dates
    )


def new_capsule_days_of(
    session: Session, states: Sequence[SubjectState]
) -> dict[int, frozenset[date]]:
    """``new_capsule_days`` for many subjects, by subject id, with one query per table; only
    for subjects whose plan changes dose mid-cycle (most never do: no records to load)."""
    changing = [state for state in states if mid_cycle_changes(state.plan())]
    records = load_records(session, [state.subject.id or 0 for state in changing])
    days = {
        state.subject.id or 0: new_capsule_days(state.plan(), records[state.subject.id or 0])
        for state in changing
    }
    return {state.subject.id or 0: days.get(state.subject.id or 0, frozenset()) for state in states}


RECORD_TABLES = (
    Day1Check,
    Preparation,
    Dispensing,
    DrugReturn,
    ReconciliationReview,
    DispensingNotNeeded,
)


def load_records(
    session: Session, subject_ids: Sequence[int], tables: Collection[type[Any]] = RECORD_TABLES
) -> dict[int, Records]:
    """Records for many subjects with one query per table; with ``tables``, those tables only
    (the others read as empty), for a reader that knows it needs no more."""
    if not subject_ids:
        return {}
    ids = list(subject_ids)
    checks = _by_subject(session, Day1Check, ids, tables)
    preparations = _by_subject(session, Preparation, ids, tables)
    dispensings = _by_subject(session, Dispensing, ids, tables)
    returns = _by_subject(session, DrugReturn, ids, tables)
    reviews = _by_subject(session, ReconciliationReview, ids, tables)
    not_needed = _by_subject(session, DispensingNotNeeded, ids, tables)
    return {
        sid: Records(
            checks[sid],
            preparations[sid],
            dispensings[sid],
            returns[sid],
            reviews[sid],
            not_needed[sid],
        )
        for sid in ids
    }


_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_BY_SUBJECT: dict[type[Any], Any] = {}


def _by_subject(
    session: Session, table: type[_Table], ids: list[int], tables: Collection[type[Any]]
) -> dict[int, tuple[_Table, ...]]:
    grouped: dict[int, list[_Table]] = defaultdict(list)
    if table not in tables:
        return {sid: () for sid in ids}
    query = _BY_SUBJECT.get(table)
    if query is None:
        # Built once per table: building the statement cost more than running it.
        query = select(table).where(col(table.subject_id).in_(_IDS)).order_by(col(table.id))
        _BY_SUBJECT[table] = query
    for row in session.exec(query, params={"ids": ids}):
        grouped[row.subject_id].append(row)
    return {sid: tuple(grouped[sid]) for sid in ids}


def _records_of(unit: Unit, state: SubjectState) -> Records:
    return load_records(unit.session, [state.subject.id or 0])[state.subject.id or 0]


def strengths(protocol: Protocol) -> set[float]:
    return {u.strength_mg for level in protocol.dose_levels for u in level.units}


def _strength(protocol: Protocol, value: float) -> float:
    known = strengths(protocol)
    if value not in known:
        listed = ", ".join(f"{s:g}" for s in sorted(known))
        raise InputError(
            "strength", f"{value:g} mg is not a capsule strength of {protocol.id} ({listed})"
        )
    return value


def _count(field: str, value: int, *, minimum: int) -> int:
    if not minimum <= value <= _MAX_CAPSULES:
        raise InputError(field, f"{value} is not between {minimum} and {_MAX_CAPSULES}")
    return value


def _cycle(plan: core.Plan, number: int) -> CyclePlan:
    for cycle in plan.cycles:
        if cycle.number == number:
            return cycle
    raise NotFound("cycle", f"{plan.subject} has no cycle {number}")


def _stopped_or_held(plan: core.Plan, day: date) -> str | None:
    stop = plan.discontinuation
    if stop is not None and stop.on <= day:
        return f"treatment was discontinued on {stop.on}"
    for period in plan.holds:
        if period.covers(day):
            return f"dosing is on hold since {period.start}"
    return None


def _correction_reason(earlier: object | None, reason: str, what: str) -> str:
    reason = check_text("reason", reason, required=False)
    if earlier is not None and not reason:
        raise Conflict("reason", f"{what} is already recorded; give --reason to correct it")
    return reason


def _add(
    unit: Unit, state: SubjectState, row: object, action: str, entity: str, reason: str
) -> None:
    unit.session.add(row)
    unit.session.flush()
    new = row.model_dump(exclude={"recorded_at", "recorded_by", "id"})  # type: ignore[attr-defined]
    unit.audit(
        action,
        entity=entity,
        entity_id=row.id,  # type: ignore[attr-defined]
        subject_id=state.subject.id,
        new=new,
        reason=reason,
    )


def confirm_day1(
    unit: Unit,
    code: str,
    *,
    cycle: int,
    met: bool,
    reason: str = "",
    on: str | date | None = None,
) -> Day1Check:
    """Record whether the day-1 criteria were met, as assessed on ``on`` (default: today at the
    subject's site). "Not met" needs the reason, and holds the cycle back until a later "met"
    (``core.day1_criteria``). Cycle 1 "met" starts treatment: refused until the eligibility
    checklist is met or waived (``eligibility.checklist``). A second check of a cycle on one
    day corrects the first and needs a reason; so does a "met" that lets the cycle start beyond
    the delay limit (``limits``). The plan is built with the check before anything is written."""
    state = subject_state(unit.session, code, unit.now)
    before = state.plan()
    _cycle(before, cycle)
    day = state.today if on is None else not_in_future("on", parse_date("on", on), state.today)
    _after_previous_day1(state, before, cycle, day)
    if cycle == 1 and met:
        require_eligible(unit.session, state)  # C1D1 waits for the eligibility checklist
    if not met and not check_text("reason", reason, required=False):
        raise InputError("reason", "say which day-1 criterion was not met")
    earlier = _records_of(unit, state).day1_check(cycle, on=day)
    reason = _correction_reason(earlier, reason, f"the day-1 check for cycle {cycle} on {day}")
    assessments = (
        *state.history.day1_assessments,
        core.Day1Assessment(id=-1, cycle=cycle, on=day, met=met),
    )
    _doses_stay_in_place(state, before, assessments)
    passed = limits_passed(before, state.with_history(day1_assessments=assessments))
    require_reason(passed, reason)
    row = Day1Check(
        subject_id=state.subject.id or 0,
        cycle=cycle,
        assessed_on=day,
        met=met,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    _add(unit, state, row, "day1.correct" if earlier else "day1.confirm", "day1check", reason)
    audit_override(
        unit, passed, reason, subject_id=state.subject.id, entity="day1check", entity_id=row.id
    )
    return row


def _after_previous_day1(state: SubjectState, plan: core.Plan, cycle: int, day: date) -> None:
    """A cycle's criteria are assessed once the cycle before it has started (for cycle 1,
    after the surgery the treatment follows, when the protocol has one)."""
    if cycle == 1:
        if state.anchors.surgery is None:
            return
        earliest, what = state.anchors.surgery, "the surgery"
    else:
        previous = plan.cycles[cycle - 2]
        earliest = previous.day1
        what = f"cycle {previous.number} day 1" + (" (not started)" if previous.tentative else "")
    if day < earliest:
        raise InputError(
            "on", f"{day} is before {what} on {earliest}; a cycle {cycle} check follows it"
        )


def _doses_stay_in_place(
    state: SubjectState, before: core.Plan, assessments: tuple[core.Day1Assessment, ...]
) -> None:
    """Refuse a check that would move a cycle under doses already recorded in it: the records
    name days of the cycle as it was, and would silently shift or fall into the delay."""
    moved = state.with_history(day1_assessments=assessments, doses=())
    for old, new in zip(before.cycles, moved.cycles, strict=True):
        if old.day1 == new.day1:
            continue
        start = min(old.day1, new.day1)
        recorded = sorted({record.on for record in state.history.doses if record.on >= start})
        if recorded:
            listed = ", ".join(str(d) for d in recorded[:5])
            raise Conflict(
                "on",
                f"cycle {old.number} would start on {new.day1}, not {old.day1}, but doses are "
                f"recorded on {listed}; correct those records first",
            )
        return


@dataclass(frozen=True)
class Need:
    """Capsules a cycle needs dispensed: those of its day 1, or, once the cycle has started,
    those of a dose changed in its middle that the patient does not have yet."""

    cycle: CyclePlan
    needed_on: date
    lines: dict[float, int]
    """Capsules per strength."""
    change: MidCycleChange | None = None


def change_lines(protocol: Protocol, change: MidCycleChange) -> dict[float, int]:
    """The new strength for the remaining doses of the changed cycle."""
    level = protocol.level_for(change.after_mg)
    units = level.units if level is not None else ()
    return {u.strength_mg: u.count * change.doses for u in units}


def need_for(plan: core.Plan, records: Records, cycle: CyclePlan) -> Need:
    """What a preparation or a "not needed" for ``cycle`` is about: a started cycle's pending
    mid-cycle change comes first (its day 1 is behind it), else the cycle's day 1."""
    if cycle.day1 <= plan.today:
        for change in awaiting_new_capsules(plan, records):
            if change.cycle == cycle.number:
                return Need(cycle, change.resumed_on, change_lines(plan.protocol, change), change)
    lines = {line.strength_mg: line.count for line in capsules_for(plan.protocol, cycle.dose_mg)[1]}
    return Need(cycle, cycle.day1, lines)


def on_shelf_for(records: Records, need: Need) -> dict[float, Preparation]:
    """What is prepared for this need: for a mid-cycle change, only what was prepared for its
    first new dose (the day-1 capsules of the same cycle went out at day 1)."""
    prepared = records.prepared(need.cycle.number)
    if need.change is None:
        return prepared
    return {s: p for s, p in prepared.items() if p.day1 == need.needed_on}


def refusal(ready: Readiness) -> str:
    """A preparation refused, as the list and the forms say it."""
    if ready.from_day is not None:
        return f"do not prepare before {ready.from_day}: {ready.reason}"
    return f"do not prepare: {ready.reason}"


def prepare(unit: Unit, code: str, *, cycle: int, reason: str = "") -> list[Preparation]:
    """Mark a cycle's capsules prepared as the plan stands now (for a started cycle whose dose
    changed mid-cycle, the new strength for the remaining doses). Preparing again (relabelling
    after a plan change) needs a reason. ``may_prepare`` decides whether it may be done today,
    exactly as it decides what the preparation list offers."""
    state = subject_state(unit.session, code, unit.now)
    plan = state.plan()
    planned = _cycle(plan, cycle)
    records = _records_of(unit, state)
    need = need_for(plan, records, planned)
    ready = may_prepare(plan, planned, need.needed_on, state.today)
    if not ready.allowed:
        raise RuleViolation("cycle", refusal(ready))
    earlier = on_shelf_for(records, need)
    reason = _correction_reason(earlier or None, reason, f"a preparation for cycle {cycle}")
    lines = need.lines
    action = RELABELLED if earlier else PREPARED
    rows = []
    for strength in sorted(set(lines) | set(earlier)):
        row = Preparation(
            subject_id=state.subject.id or 0,
            cycle=cycle,
            action=action if strength in lines else RETURNED,
            day1=need.needed_on,
            strength_mg=strength,
            capsule_count=lines[strength] if strength in lines else earlier[strength].capsule_count,
            reason=reason,
            recorded_at=unit.now,
            recorded_by=unit.actor,
        )
        _add(unit, state, row, f"preparation.{row.action}", "preparation", reason)
        rows.append(row)
    return rows


def mark_not_needed(unit: Unit, code: str, *, cycle: int, reason: str) -> DispensingNotNeeded:
    """Record why capsules that were due will not be dispensed (the patient had enough, the
    dispensing was recorded on paper, the cycle was skipped): the overdue row leaves the list.
    Only for capsules already due, and not for capsules dispensed."""
    state = subject_state(unit.session, code, unit.now)
    reason = check_text("reason", reason, required=True)
    plan = state.plan()
    planned = _cycle(plan, cycle)
    records = _records_of(unit, state)
    need = need_for(plan, records, planned)
    if need.change is None and records.dispensed(cycle):
        raise Conflict("cycle", f"cycle {cycle}'s capsules are dispensed already")
    if need.needed_on > state.today:
        raise InputError(
            "cycle",
            f"cycle {cycle}'s capsules are due on {need.needed_on}; "
            "they can be marked not needed from that day",
        )
    if records.waived(cycle, need.needed_on) is not None:
        raise Conflict("cycle", f"cycle {cycle}'s capsules are marked not needed already")
    row = DispensingNotNeeded(
        subject_id=state.subject.id or 0,
        cycle=cycle,
        needed_on=need.needed_on,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    _add(unit, state, row, "dispensing.not_needed", "dispensingnotneeded", reason)
    return row


def return_to_stock(unit: Unit, code: str, *, cycle: int, reason: str) -> list[Preparation]:
    """Put prepared capsules back into stock: the plan changed, or the subject stopped."""
    state = subject_state(unit.session, code, unit.now)
    reason = check_text("reason", reason, required=True)
    earlier = _records_of(unit, state).prepared(cycle)
    if not earlier:
        raise NotFound("cycle", f"nothing is prepared for {code} cycle {cycle}")
    rows = []
    for strength, prepared in sorted(earlier.items()):
        row = Preparation(
            subject_id=state.subject.id or 0,
            cycle=cycle,
            action=RETURNED,
            day1=prepared.day1,
            strength_mg=strength,
            capsule_count=prepared.capsule_count,
            reason=reason,
            recorded_at=unit.now,
            recorded_by=unit.actor,
        )
        _add(unit, state, row, "preparation.returned", "preparation", reason)
        rows.append(row)
    return rows


def dispense(
    unit: Unit,
    code: str,
    *,
    cycle: int,
    on: str | date,
    strength: float,
    count: int,
    lot: str,
    expiry: str | date,
    reason: str = "",
) -> Dispensing:
    state = subject_state(unit.session, code, unit.now)
    plan = state.plan()
    planned = _cycle(plan, cycle)
    day = not_in_future("date", parse_date("date", on), state.today)
    earliest = working_days_before(
        plan.cycles[0].day1,
        state.protocol.pharmacy.lead_working_days,
        unit.settings.site_holidays.get(state.site.code, []),
    )
    if day < earliest:
        raise InputError(
            "date",
            f"{day} is before the pharmacy could have prepared the first cycle ({earliest}, "
            "C1D1 minus the lead time)",
        )
    expires = parse_date("expiry", expiry)
    if expires < day:
        raise InputError("expiry", f"lot expired on {expires}, before the dispensing date {day}")
    last_dose = max((slot.date for slot in planned.doses), default=day)
    if expires < last_dose:
        # The subject takes these capsules at home until the cycle's last dosing day.
        raise InputError(
            "expiry",
            f"lot expires on {expires}, before cycle {cycle}'s last dosing day {last_dose}",
        )
    strength = _strength(state.protocol, strength)
    count = _count("count", count, minimum=1)
    lot = check_text("lot", lot, required=True, limit=64)
    blocked = _stopped_or_held(plan, day)
    if blocked:
        raise RuleViolation("date", f"cannot dispense on {day}: {blocked}")
    records = _records_of(unit, state)
    earlier = records.dispensed(cycle).get(strength)
    reason = _correction_reason(earlier, reason, f"a {strength:g} mg dispensing for cycle {cycle}")
    if strength not in records.prepared(cycle) and not reason:
        # Capsules handed out without a preparation on record were never checked against the
        # plan by a second person: say why (prepared on paper, an emergency supply).
        raise InputError(
            "reason",
            f"no {strength:g} mg preparation is recorded for cycle {cycle}; "
            "give --reason to dispense without one",
        )
    row = Dispensing(
        subject_id=state.subject.id or 0,
        cycle=cycle,
        dispensed_on=day,
        strength_mg=strength,
        capsule_count=count,
        lot=lot,
        expiry=expires,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    _add(
        unit,
        state,
        row,
        "dispensing.correct" if earlier else "dispensing.record",
        "dispensing",
        reason,
    )
    return row


def record_return(
    unit: Unit,
    code: str,
    *,
    cycle: int,
    on: str | date,
    strength: float,
    count: int,
    reason: str = "",
) -> DrugReturn:
    state = subject_state(unit.session, code, unit.now)
    day = not_in_future("date", parse_date("date", on), state.today)
    strength = _strength(state.protocol, strength)
    records = _records_of(unit, state)
    dispensed = records.dispensed(cycle).get(strength)
    if dispensed is None:
        raise NotFound(
            "cycle", f"no {strength:g} mg capsules were dispensed to {code} for cycle {cycle}"
        )
    if day < dispensed.dispensed_on:
        raise InputError("date", f"{day} is before the dispensing on {dispensed.dispensed_on}")
    count = _count("count", count, minimum=0)
    if count > dispensed.capsule_count:
        raise InputError(
            "count", f"{count} returned but only {dispensed.capsule_count} were dispensed"
        )
    earlier = records.returned(cycle).get(strength)
    reason = _correction_reason(earlier, reason, f"a {strength:g} mg return for cycle {cycle}")
    row = DrugReturn(
        subject_id=state.subject.id or 0,
        cycle=cycle,
        returned_on=day,
        strength_mg=strength,
        capsule_count=count,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    _add(unit, state, row, "return.correct" if earlier else "return.record", "drugreturn", reason)
    return row


def reconcile(plan: core.Plan, records: Records) -> list[Reconciliation]:
    return reconciliation(
        plan, dispensed=records.dispensings, returned=records.returns, reviews=records.reviews
    )


def open_discrepancies(plan: core.Plan, records: Records) -> list[Reconciliation]:
    return [r for r in reconcile(plan, records) if r.discrepancy and not r.reviewed]


def review(unit: Unit, code: str, *, cycle: int, note: str) -> ReconciliationReview:
    """Explain a cycle's discrepancy (lost capsules, a diary error); it clears the flag."""
    state = subject_state(unit.session, code, unit.now)
    note = check_text("note", note, required=True)
    records = _records_of(unit, state)
    if not any(r.cycle == cycle and r.discrepancy for r in reconcile(state.plan(), records)):
        raise NotFound("cycle", f"{code} cycle {cycle} has no discrepancy to review")
    row = ReconciliationReview(
        subject_id=state.subject.id or 0,
        cycle=cycle,
        note=note,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    _add(unit, state, row, "reconciliation.review", "reconciliationreview", note)
    return row


def reconciliation_for(session: Session, code: str, now: datetime) -> list[Reconciliation]:
    state = subject_state(session, code, now)
    sid = state.subject.id or 0
    return reconcile(state.plan(), load_records(session, [sid])[sid])
