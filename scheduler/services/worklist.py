"""The research nurse's list: who is due on a day, what is overdue, what needs a decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlmodel import Session

from scheduler import core
from scheduler.services.accountability import discrepancy_items, load_records
from scheduler.services.subjects import all_subjects, states

ItemKind = Literal[
    "visit_due", "visit_overdue", "unrecorded_doses", "on_hold", "proposal", "drug_discrepancy"
]


@dataclass(frozen=True)
class WorkItem:
    subject: str
    site: str
    kind: ItemKind
    what: str
    detail: str
    target: date | None = None
    window_start: date | None = None
    window_end: date | None = None


def _items(plan: core.Plan, site: str, day: date) -> list[WorkItem]:
    items: list[WorkItem] = []
    for visit in plan.visits:
        if visit.status in ("done", "cancelled") or visit.window_start > day:
            continue
        overdue = visit.window_end < day
        items.append(
            WorkItem(
                subject=plan.subject,
                site=site,
                kind="visit_overdue" if overdue else "visit_due",
                what=visit.code,
                detail=visit.name,
                target=visit.target,
                window_start=visit.window_start,
                window_end=visit.window_end,
            )
        )
    unrecorded = [d for d in plan.doses() if d.status == "planned" and d.date < day]
    if unrecorded:
        items.append(
            WorkItem(
                subject=plan.subject,
                site=site,
                kind="unrecorded_doses",
                what=f"{len(unrecorded)} doses",
                detail=f"no record from {unrecorded[0].date} to {unrecorded[-1].date}",
            )
        )
    hold = plan.current_hold()
    if hold is not None:
        items.append(
            WorkItem(
                subject=plan.subject,
                site=site,
                kind="on_hold",
                what=f"day {hold.length_days(day)}",
                detail=f"on hold since {hold.start}: {hold.reason}",
            )
        )
    for proposal in plan.proposals:
        items.append(
            WorkItem(
                subject=plan.subject,
                site=site,
                kind="proposal",
                what=proposal.action,
                detail=proposal.reason,
            )
        )
    return items


def worklist(
    session: Session, now: datetime, *, site_code: str | None = None, on: date | None = None
) -> list[WorkItem]:
    """Items for every subject at the site, as of ``on`` (default: each site's today)."""
    items: list[WorkItem] = []
    subject_states = states(session, all_subjects(session, site_code), now)
    records = load_records(session, [s.subject.id or 0 for s in subject_states])
    for state in subject_states:
        day = on or state.today
        plan = core.build_plan(state.protocol, state.anchors, state.history, day)
        items.extend(_items(plan, state.site.code, day))
        items.extend(discrepancy_items(plan, state.site.code, records[state.subject.id or 0]))
    return items
