"""The labs projection: worklist items derived from a subject's adverse events and results,
rewritten whenever a unit of work changes the subject (``scheduler.app.bootstrap``).

- ``ae_proposal``: an adverse event whose proposal is a hold or a discontinuation, until the
  investigator records a hold from its onset on, or a discontinuation (typed and graded events
  alike: both go through ``record_adverse_event``);
- ``urine_protein_due``: a dipstick at or above ``[labs.urine_protein_followup]`` with no 24 h
  urine protein (or UPCR) after it;
- ``home_bp``: the latest blood pressure is a home reading at or above ``[labs.home_bp]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, insert
from sqlmodel import col, select

from scheduler.core.lab_rules import home_bp_alert, quantified_protein_due
from scheduler.kernel.subject_state import SubjectState
from scheduler.kernel.unit import Unit
from scheduler.models import AdverseEvent, LabResult, LabWorkItem

_ACTION_NEEDED = ("hold", "hold_then_reduce", "discontinue")


def _current(rows: Sequence[LabResult]) -> list[LabResult]:
    corrected = {row.corrects_id for row in rows if row.corrects_id is not None}
    return [row for row in rows if row.id not in corrected]


def _proposal_items(state: SubjectState, events: Sequence[AdverseEvent]) -> list[dict[str, Any]]:
    history = state.history
    standing = {e.id for e in history.adverse_events}
    items = []
    for event in events:
        if event.id not in standing or event.proposed_action not in _ACTION_NEEDED:
            continue
        if history.discontinuation is not None:
            continue
        if any(hold.on >= event.onset for hold in history.holds):
            continue
        items.append(
            {
                "kind": "ae_proposal",
                "what": f"{event.term} grade {event.grade}"[:200],
                "detail": f"proposed: {event.proposed_action} - {event.proposal_reason}"[:1000],
                "shown_from": event.onset,
            }
        )
    return items


def _lab_items(state: SubjectState, rows: list[LabResult]) -> list[dict[str, Any]]:
    rules = state.protocol.labs
    if rules is None or not rows:
        return []
    items = []
    followup = rules.urine_protein_followup
    if followup is not None:
        dipsticks = [(r.taken_on, r.value_std) for r in rows if r.test == followup.dipstick_test]
        quantified = [r.taken_on for r in rows if r.test in followup.followed_by]
        due = quantified_protein_due(followup, dipsticks, quantified)
        if due is not None:
            items.append(
                {
                    "kind": "urine_protein_due",
                    "what": "24 h urine protein due",
                    "detail": f"urine dipstick >= {followup.dipstick_from:g}+ on {due}: "
                    "a 24 h urine protein (or UPCR) decides",
                    "shown_from": due,
                }
            )
    home = rules.home_bp
    readings = [r for r in rows if r.test in ("SBP", "DBP")]
    if home is not None and readings:
        last = max(readings, key=lambda r: (r.taken_on, r.id or 0))
        pair = {
            r.test: r.value_std
            for r in readings
            if r.taken_on == last.taken_on and r.source == last.source
        }
        cycle = _cycle_on(state, last) if last.source == "home" else None
        if last.source == "home" and home_bp_alert(home, cycle, pair.get("SBP"), pair.get("DBP")):
            items.append(
                {
                    "kind": "home_bp",
                    "what": "home blood pressure",
                    "detail": f"{pair.get('SBP', 0):g}/{pair.get('DBP', 0):g} mmHg at home on "
                    f"{last.taken_on} (alert at {home.alert_at.systolic:g}/"
                    f"{home.alert_at.diastolic:g})",
                    "shown_from": last.taken_on,
                }
            )
    return items


def _cycle_on(state: SubjectState, row: LabResult) -> int | None:
    return next((c.number for c in state.plan().cycles if c.day1 <= row.taken_on <= c.end), None)


_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_DELETE = delete(LabWorkItem).where(col(LabWorkItem.subject_id).in_(_IDS))
_EVENTS = (
    select(AdverseEvent)
    .where(col(AdverseEvent.subject_id).in_(_IDS))
    .order_by(col(AdverseEvent.id))
)
_RESULTS = select(LabResult).where(col(LabResult.subject_id).in_(_IDS)).order_by(col(LabResult.id))
"""Built once: on a write, building the statements cost more than running them."""


def refresh_lab_items(unit: Unit, subject_states: Sequence[SubjectState]) -> None:
    ids = [s.subject.id for s in subject_states if s.subject.id is not None]
    if not ids:
        return
    session = unit.session
    session.execute(_DELETE, {"ids": ids})
    events: dict[int, list[AdverseEvent]] = {}
    # Only a standing event can propose anything, and most subjects have none.
    with_events = [s.subject.id for s in subject_states if s.history.adverse_events]
    for event in session.exec(_EVENTS, params={"ids": with_events}) if with_events else ():
        events.setdefault(event.subject_id, []).append(event)
    results: dict[int, list[LabResult]] = {}
    for row in session.exec(_RESULTS, params={"ids": ids}):
        results.setdefault(row.subject_id, []).append(row)
    values = []
    for state in subject_states:
        sid = state.subject.id or 0
        key = {"subject_id": sid, "site_id": state.site.id or 0}
        found = _proposal_items(state, events.get(sid, []))
        found += _lab_items(state, _current(results.get(sid, [])))
        values += [key | item for item in found]
    if values:
        session.execute(insert(LabWorkItem.__table__), values)  # type: ignore[attr-defined]
