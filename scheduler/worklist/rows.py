"""The worklist's derived rows: what each plan says, stored so the worklist is indexed queries.

``rows_for`` turns one subject's plan into plain row dicts; it is the only place that decides
what is stored, used alike by the refresher (same transaction as every change), the backfill
(subjects enrolled before the tables existed) and the benchmark's bulk seeding.

Rows are derived as of the day they are written, but the worklist reads them for any day, so
nothing stored may depend on the day of derivation. What moves with time alone, and how:
- an open hold lays out later cycles (their visits and doses) from "tomorrow": they are marked
  ``tentative`` and no query lists them; the on-hold row, from the hold record itself, stands for
  them (days on hold are counted at query time, and beyond the limit it turns urgent);
- a visit is due, in window or overdue depending on the day: the rows keep its dates, the query
  decides;
- a cycle delayed beyond the limit is proposed for discontinuation while that cycle is under
  way: the row carries the days it is shown on (``shown_from``, ``shown_until``);
- a cycle waiting for its day-1 criteria is laid out from "tomorrow" too, so it is tentative
  like a cycle behind an open hold; standing rows, from the day-1 check that found the criteria
  unmet, stand for its day-1 check and, once the delay passes the limit, for the proposal;
- the first dose without a record ignores tentative slots (they are not due yet).
So the rows change only when records change, and they change in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, func, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from scheduler import core
from scheduler.appointments.booking import bookings_of
from scheduler.core.appointments import Booking, booking_stands
from scheduler.core.cycles import CyclePlan
from scheduler.core.dose_changes import mid_cycle_changes
from scheduler.core.limits import delay_limit_passed
from scheduler.core.plan import STOPPED
from scheduler.core.visits import VisitPlan
from scheduler.kernel.subject_state import SubjectState, states
from scheduler.kernel.unit import Unit
from scheduler.models import (
    Day1Check,
    Dispensing,
    DispensingNotNeeded,
    DrugReturn,
    MissedDose,
    ReconciliationReview,
    ScheduledVisit,
    StandingItem,
    Subject,
    SubjectStatus,
)
from scheduler.pharmacy.accountability import (
    Records,
    awaiting_new_capsules,
    load_records,
    open_discrepancies,
)
from scheduler.worklist.work_item import WorkItem

BACKFILL_BATCH = 500
DEVIATION_DAYS = 7
"""A dose taken outside the window is listed for this many days from the dose's date: long
enough for the diary to reach the nurse at the next visit or call and the deviation to be
reported."""
DAY1_LOOKAHEAD_DAYS = 3
"""Cycle day 1 visits up to this many days ahead are checked for day-1 criteria."""
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_STATUS = SubjectStatus.__table__  # type: ignore[attr-defined]
_STORED_STATUSES = core_select(_STATUS).where(_STATUS.c.subject_id.in_(_IDS))
_UPDATE_STATUS = (
    update(_STATUS)
    .where(_STATUS.c.subject_id == bindparam("b_subject_id"))
    .values({c.name: bindparam(c.name) for c in _STATUS.c if c.name != "subject_id"})
)
_DELETES = {
    table: delete(table.__table__).where(table.__table__.c.subject_id.in_(_IDS))  # type: ignore[union-attr]
    for table in (ScheduledVisit, MissedDose, StandingItem)
}


@dataclass
class Rows:
    """Row dicts for each derived table, ready for one executemany insert per table."""

    visits: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    standing: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        self.visits += other.visits
        self.statuses += other.statuses
        self.missed += other.missed
        self.standing += other.standing

    def by_table(self) -> Iterator[tuple[type[Any], list[dict[str, Any]]]]:
        yield SubjectStatus, self.statuses
        yield from self.others()

    def others(self) -> Iterator[tuple[type[Any], list[dict[str, Any]]]]:
        """The tables besides the status row, which carries their digest."""
        yield ScheduledVisit, self.visits
        yield MissedDose, self.missed
        yield StandingItem, self.standing

    def digest(self) -> str:
        return hashlib.sha256(repr(list(self.others())).encode()).hexdigest()


def _day1_cycle(plan: core.Plan, visit: VisitPlan) -> int | None:
    if not plan.protocol.day1_criteria or visit.cycle is None or visit.anchor != "cycle":
        return None
    return visit.cycle if plan.cycles[visit.cycle - 1].day1 == visit.target else None


def rows_for(
    plan: core.Plan,
    subject_id: int,
    site_id: int,
    site_code: str,
    records: Records,
    bookings: Mapping[str, Booking] | None = None,
) -> Rows:
    """The derived rows of one subject's plan (drawn as of ``plan.today``); ``bookings``: the
    subject's current appointments by visit code."""
    rows = Rows()
    key = {"subject_id": subject_id, "site_id": site_id}
    for visit in plan.visits:
        if visit.status == "cancelled":
            continue
        cycle_dose = plan.cycles[visit.cycle - 1].dose_mg if visit.cycle else plan.dose_mg
        rows.visits.append(
            key
            | {
                "code": plan.subject,
                "visit_code": visit.code,
                "name": visit.name,
                "cycle": visit.cycle,
                "day1_cycle": _day1_cycle(plan, visit),
                "target": visit.target,
                "window_start": visit.window_start,
                "window_end": visit.window_end,
                "done": visit.status == "done",
                "tentative": visit.tentative,
                "dose_mg": cycle_dose,
            }
        )
    latest_hold = max(plan.holds, key=lambda h: h.start, default=None)
    unrecorded = next(
        (s.date for s in plan.doses() if s.status == "planned" and not s.tentative), None
    )
    rows.statuses.append(
        key
        | {
            "code": plan.subject,
            "status": plan.status,
            "dose_mg": plan.dose_mg,
            "hold_start": latest_hold.start if latest_hold else None,
            "hold_end": latest_hold.end if latest_hold else None,
            "hold_reason": latest_hold.reason[:500] if latest_hold else "",
            "max_hold_days": plan.protocol.limits.max_hold_days,
            "first_unrecorded_dose": unrecorded,
            "refreshed_on": plan.today,
        }
    )
    rows.missed += [
        key | {"slot_key": s.key, "dose_date": s.date, "dose_mg": s.dose_mg}
        for s in plan.doses()
        if s.status == "missed"
    ]
    rows.standing += [key | item for item in late_dose_deviations(plan)]
    rows.standing += [key | item for item in delay_proposals(plan)]
    rows.standing += [key | item for item in new_strength_waiting(plan, records)]
    rows.standing += [key | item for item in criteria_wait(plan, records)]
    rows.standing += [key | item for item in stale_bookings(plan, bookings or {})]
    rows.standing += [
        key
        | {
            "kind": item.kind,
            "what": item.what,
            "detail": item.detail[:1000],
            "shown_from": None,
            "shown_until": None,
        }
        for item in discrepancy_items(plan, site_code, records)
    ]
    rows.statuses[0]["rows_digest"] = rows.digest()
    return rows


def stale_bookings(plan: core.Plan, bookings: Mapping[str, Booking]) -> list[dict[str, Any]]:
    """Appointments the plan has moved away from (a hold ended, a delay): the booked day is
    outside the visit's window now, so the nurses book it again. Listed until they do (the
    booking is a record: booking again rewrites these rows). A visit behind an open hold has
    no date yet and is left to the hold's row, as its other rows are."""
    items = []
    for visit in plan.visits:
        booking = bookings.get(visit.code)
        if (
            booking is None
            or visit.status in ("done", "cancelled")
            or visit.tentative
            or booking_stands(visit, booking)
        ):
            continue
        items.append(
            {
                "kind": "rebook",
                "what": visit.code,
                "detail": f"rebook: {visit.code} moved to {visit.target} (booked {booking.on} "
                f"{booking.at:%H:%M}, window {visit.window_start} to {visit.window_end})",
                "shown_from": None,
                "shown_until": None,
            }
        )
    return items


def late_dose_deviations(plan: core.Plan) -> list[dict[str, Any]]:
    """Doses taken later than the protocol's late-dose limit: they count as taken, but each is
    a protocol deviation the nurse reports, so it is listed for ``DEVIATION_DAYS`` days."""
    limit = plan.protocol.limits.late_dose_hours
    found: list[dict[str, Any]] = []
    for slot in plan.doses():
        if slot.status != "taken_outside_window" or slot.taken_at is None:
            continue
        hours, minutes = divmod(slot.late_minutes or 0, 60)
        found.append(
            {
                "kind": "dose_deviation",
                "what": slot.key,
                "detail": (
                    f"dose of {slot.date} {slot.time:%H:%M} taken at {slot.taken_at:%H:%M}, "
                    f"{hours} h {minutes:02d} min late, beyond the {limit}-hour limit: "
                    "protocol deviation"
                ),
                "shown_from": slot.date,
                "shown_until": slot.date + timedelta(days=DEVIATION_DAYS - 1),
            }
        )
    return found


def new_strength_waiting(plan: core.Plan, records: Records) -> list[dict[str, Any]]:
    """A dose changed mid-cycle whose new strength is not dispensed: the patient holds only the
    old capsules. Listed until the dispensing (or a "not needed") is recorded, which derives
    the rows again, or until the last dose it was for has passed."""
    return [
        {
            "kind": "new_strength",
            "what": f"cycle {change.cycle}",
            "detail": (
                f"new strength not yet dispensed: {change.label}; "
                f"needed before the dose of {change.dose_dates[0]}"
            ),
            "shown_from": None,
            "shown_until": change.dose_dates[-1],
        }
        for change in awaiting_new_capsules(plan, records)
    ]


def delay_proposals(plan: core.Plan) -> list[dict[str, Any]]:
    """The rule table's "cycle delayed beyond the limit: discontinue", with the days it holds.

    The core proposes it for the first cycle, planned or under way, whose day 1 moved more than
    the protocol's limit: so each such cycle's proposal is shown from the day after the previous
    one's cycle ended until its own cycle ends (for the last cycle, until its last dose, when the
    treatment is completed). A cycle behind an open hold is tentative and its delay still grows:
    the on-hold row stands for it (beyond the hold limit it is urgent and says discontinuation is
    proposed), as it does for the core's hold-limit proposal; and the cycle before it ends only
    when that hold does. Nothing is proposed once the subject is discontinued.

    A cycle waiting for its day-1 criteria is tentative too, but nothing else stands for it:
    its proposal is listed from the first day its delay is beyond the limit, until a check
    finds the criteria met (a change that derives the rows)."""
    if plan.status in STOPPED:
        return []
    limit = plan.protocol.limits.max_delay_days
    found: list[dict[str, Any]] = []
    shown_from: date | None = None
    cycles = plan.cycles
    waiting = plan.waiting_for_criteria()
    for cycle in cycles:
        if cycle.tentative:
            if waiting is not None and waiting.cycle == cycle.number:
                found.append(_waiting_proposal(cycle, limit, shown_from))
            break
        if not delay_limit_passed(cycle.delay_days, max_delay_days=limit):
            continue
        until: date | None = cycle.end
        if cycle.number == len(cycles) and cycle.doses:
            until = min(cycle.end, cycle.doses[-1].date)
        elif cycles[cycle.number].tentative:
            # The next day 1 waits for an open hold, so this cycle's end moves day by day:
            # shown until the hold ends (its resumption is a change that derives the rows).
            until = None
        found.append(
            {
                "kind": "proposal",
                "what": "discontinue",
                "detail": (
                    f"cycle {cycle.number} is delayed {cycle.delay_days} days, "
                    f"beyond the {limit}-day limit"
                ),
                "shown_from": shown_from,
                "shown_until": until,
            }
        )
        if until is None:
            break
        shown_from = until + timedelta(days=1)
    return found


def _waiting_proposal(cycle: CyclePlan, limit: int, shown_from: date | None) -> dict[str, Any]:
    """The proposal for a cycle waiting for its day-1 criteria. Its day 1 is laid out from the
    day after the plan's today (if nothing puts it later), so once its nominal day 1 is past,
    its delay grows a day a day: beyond the limit when the rows are derived, it stays so;
    otherwise it is from ``limit`` days after its nominal day 1 on."""
    if cycle.delay_days <= limit:
        first = cycle.nominal_day1 + timedelta(days=limit)
        shown_from = first if shown_from is None else max(shown_from, first)
    return {
        "kind": "proposal",
        "what": "discontinue",
        "detail": (
            f"cycle {cycle.number} waits for its day-1 criteria beyond the {limit}-day delay limit"
        ),
        "shown_from": shown_from,
        "shown_until": None,
    }


def criteria_wait(plan: core.Plan, records: Records) -> list[dict[str, Any]]:
    """The day-1 check of a cycle waiting for its criteria. Its visit row is tentative, so the
    day-1 query passes it by; this row is listed instead, as an unconfirmed check would be
    (from ``DAY1_LOOKAHEAD_DAYS`` before day 1), until a check finds the criteria met. Day 1
    here is the planned one or, once that has passed, the day after the rows were derived:
    either way the row starts no later than the day they are read for."""
    waiting = plan.waiting_for_criteria()
    if waiting is None:
        return []
    check = records.day1_check(waiting.cycle)
    day1 = plan.cycles[waiting.cycle - 1].day1
    return [
        {
            "kind": "day1_check",
            "what": f"cycle {waiting.cycle}",
            "detail": f"day-1 criteria not met: {check.reason if check else ''}"[:1000],
            "shown_from": day1 - timedelta(days=DAY1_LOOKAHEAD_DAYS),
            "shown_until": None,
        }
    ]


def _records_read(session: Session, subject_states: Sequence[SubjectState]) -> dict[int, Records]:
    """The pharmacy records the rows read, and only those (each table is a query on every
    write): returns, and with some, the dispensings and reviews they are reconciled with (no
    count back, no discrepancy); the dispensings and "not needed" of a dose changed mid-cycle;
    the day-1 checks of a cycle waiting for its criteria. Never the preparations."""
    ids = [s.subject.id or 0 for s in subject_states]
    returns = load_records(session, ids, (DrugReturn,))
    tables: set[type[Any]] = set()
    for state in subject_states:
        plan = state.plan()
        if returns[state.subject.id or 0].returns:
            tables |= {Dispensing, ReconciliationReview}
        if mid_cycle_changes(plan):
            tables |= {Dispensing, DispensingNotNeeded}
        if plan.waiting_for_criteria() is not None:
            tables.add(Day1Check)
    if not tables:
        return returns
    others = load_records(session, ids, tables)
    return {sid: replace(others[sid], returns=returns[sid].returns) for sid in ids}


def write_rows(session: Session, subject_states: Sequence[SubjectState]) -> None:
    """Bring the derived rows of these subjects in line with what their plans say now. A
    subject's status row is rewritten when it changed; its other rows only when their digest
    did (a dose taken moves the first unrecorded dose and nothing else)."""
    ids = [s.subject.id for s in subject_states if s.subject.id is not None]
    if not ids:
        return
    records = _records_read(session, subject_states)
    booked = bookings_of(session, ids)
    stored = {
        row.subject_id: row for row in session.execute(_STORED_STATUSES, {"ids": ids}).mappings()
    }
    rows = Rows()
    updated: list[dict[str, Any]] = []
    rewritten: list[int] = []
    for state in subject_states:
        sid = state.subject.id or 0
        new = rows_for(
            state.plan(), sid, state.site.id or 0, state.site.code, records[sid], booked.get(sid)
        )
        old = stored.get(sid)
        status = new.statuses[0]
        if old is not None and dict(old) == status:
            continue
        if old is None:
            rows.statuses.append(status)
        else:
            updated.append(
                {"b_subject_id": sid} | {k: v for k, v in status.items() if k != "subject_id"}
            )
        if old is None or old["rows_digest"] != status["rows_digest"]:
            rewritten.append(sid)
            rows.visits += new.visits
            rows.missed += new.missed
            rows.standing += new.standing
    if updated:
        session.execute(_UPDATE_STATUS, updated)
    if rewritten:
        for table, _ in rows.others():
            session.execute(_DELETES[table], {"ids": rewritten})
    insert_rows(session, rows)


def insert_rows(session: Session, rows: Rows) -> None:
    """One executemany per table, on the tables themselves: the ORM's bulk insert would split
    the batch wherever a row leaves a nullable column empty."""
    for table, values in rows.by_table():
        if values:
            session.execute(insert(table.__table__), values)


def refresh_worklist_rows(unit: Unit, subject_states: Sequence[SubjectState]) -> None:
    """The projection hook: runs before commit for every subject the unit changed.

    Two units changing one subject at once would both delete its rows and both insert new ones,
    and the second insert would fail (taking the clinical record with it). They cannot: the
    unit locked each subject when it first read it, and ``refresh_derived`` read the states it
    passes here with those locks held, so they include whatever another unit committed."""
    write_rows(unit.session, subject_states)


def backfill(session: Session, now: datetime) -> int:
    """Derive rows for subjects that have none (enrolled before the tables existed); returns
    how many. The worklist calls it when ``missing_rows`` says so."""
    missing = select(Subject).where(_no_rows()).order_by(col(Subject.id))
    done = 0
    while batch := list(session.exec(missing.limit(BACKFILL_BATCH))):
        write_rows(session, states(session, batch, now))
        session.flush()
        done += len(batch)
    return done


def missing_rows(session: Session, site_id: int | None = None) -> bool:
    """True when some subject (of the site) has no derived rows yet. Subjects are never
    deleted and a status row exists only for a subject, so comparing two indexed counts is
    enough, and cheaper than looking for the missing ones."""
    subjects = select(func.count()).select_from(Subject)
    statuses = select(func.count()).select_from(SubjectStatus)
    if site_id is not None:
        subjects = subjects.where(col(Subject.site_id) == site_id)
        statuses = statuses.where(col(SubjectStatus.site_id) == site_id)
    return session.exec(subjects).one() > session.exec(statuses).one()


def _no_rows() -> Any:
    return ~select(SubjectStatus.subject_id).where(SubjectStatus.subject_id == Subject.id).exists()


def discrepancy_items(plan: core.Plan, site: str, records: Records) -> list[WorkItem]:
    """Worklist items for capsule counts that disagree with the dose records, until reviewed."""
    return [
        WorkItem(
            subject=plan.subject,
            site=site,
            kind="drug_discrepancy",
            what=f"cycle {r.cycle} {r.strength_mg:g} mg",
            detail=(
                f"{r.returned} capsules returned, {r.expected_return} expected "
                f"({r.dispensed} dispensed, {r.taken_capsules} recorded taken)"
            ),
        )
        for r in open_discrepancies(plan, records)
    ]
