"""Stored rows to core values: a subject's history with voided records left out.

Histories load in batches (one query per table for any number of subjects) so worklists and
feeds over a whole site do not query once per subject.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import Session, col, select

from scheduler import core
from scheduler.models import (
    AdverseEvent,
    Day1Check,
    Discontinuation,
    DoseRecord,
    Hold,
    Resumption,
    VisitRecord,
    Void,
)


def load_histories(session: Session, subject_ids: Iterable[int]) -> dict[int, core.History]:
    ids = sorted(set(subject_ids))
    if not ids:
        return {}
    voided = {
        (kind, record_id)
        for kind, record_id in session.exec(
            select(Void.record_kind, Void.record_id).where(col(Void.subject_id).in_(ids))
        ).all()
    }
    doses: dict[int, list[core.DoseOutcome]] = defaultdict(list)
    holds: dict[int, list[core.HoldStart]] = defaultdict(list)
    resumptions: dict[int, list[core.HoldEnd]] = defaultdict(list)
    stops: dict[int, core.TreatmentStop] = {}
    events: dict[int, list[core.ToxicityReport]] = defaultdict(list)
    visits: dict[int, list[core.VisitDone]] = defaultdict(list)
    checks: dict[int, list[core.Day1Assessment]] = defaultdict(list)

    for d in session.exec(
        select(DoseRecord).where(col(DoseRecord.subject_id).in_(ids)).order_by(col(DoseRecord.id))
    ):
        if ("dose", d.id) not in voided:
            doses[d.subject_id].append(
                core.DoseOutcome(
                    id=d.id or 0, on=d.dose_date, taken=d.taken, slot=d.slot, taken_at=d.taken_at
                )
            )
    for h in session.exec(select(Hold).where(col(Hold.subject_id).in_(ids)).order_by(col(Hold.id))):
        if ("hold", h.id) not in voided:
            holds[h.subject_id].append(
                core.HoldStart(id=h.id or 0, on=h.start_date, reason=h.reason)
            )
    for r in session.exec(
        select(Resumption).where(col(Resumption.subject_id).in_(ids)).order_by(col(Resumption.id))
    ):
        if ("resumption", r.id) not in voided:
            resumptions[r.subject_id].append(
                core.HoldEnd(id=r.id or 0, on=r.resume_date, dose_mg=r.dose_mg)
            )
    for s in session.exec(
        select(Discontinuation)
        .where(col(Discontinuation.subject_id).in_(ids))
        .order_by(col(Discontinuation.id))
    ):
        if ("discontinuation", s.id) not in voided:
            stops[s.subject_id] = core.TreatmentStop(id=s.id or 0, on=s.on_date, reason=s.reason)
    for a in session.exec(
        select(AdverseEvent)
        .where(col(AdverseEvent.subject_id).in_(ids))
        .order_by(col(AdverseEvent.id))
    ):
        if ("adverse_event", a.id) not in voided:
            events[a.subject_id].append(
                core.ToxicityReport(
                    id=a.id or 0,
                    term=a.term,
                    grade=a.grade,
                    onset=a.onset,
                    related=a.related,
                    intolerable=a.intolerable,
                )
            )
    for v in session.exec(
        select(VisitRecord)
        .where(col(VisitRecord.subject_id).in_(ids))
        .order_by(col(VisitRecord.id))
    ):
        if ("visit", v.id) not in voided:
            visits[v.subject_id].append(
                core.VisitDone(id=v.id or 0, code=v.code, on=v.actual_date, deviation=v.deviation)
            )
    for c in session.exec(
        select(Day1Check).where(col(Day1Check.subject_id).in_(ids)).order_by(col(Day1Check.id))
    ):
        checks[c.subject_id].append(
            core.Day1Assessment(id=c.id or 0, cycle=c.cycle, on=c.assessed_on, met=c.met)
        )
    return {
        sid: core.History(
            doses=tuple(doses[sid]),
            holds=tuple(holds[sid]),
            resumptions=tuple(resumptions[sid]),
            discontinuation=stops.get(sid),
            adverse_events=tuple(events[sid]),
            visits=tuple(visits[sid]),
            day1_assessments=tuple(checks[sid]),
        )
        for sid in ids
    }
