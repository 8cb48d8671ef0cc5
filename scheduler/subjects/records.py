"""A subject's stored records and audit trail, for people to read (and to find ids to void)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from scheduler.kernel.subject_state import get_subject
from scheduler.models import (
    AdverseEvent,
    AuditEntry,
    Discontinuation,
    DoseRecord,
    Hold,
    Resumption,
    VisitRecord,
    Void,
)


@dataclass(frozen=True)
class RecordLine:
    kind: str
    id: int
    on: date
    summary: str
    recorded_at: datetime
    recorded_by: str
    voided: str | None


def records_of(session: Session, code: str) -> list[RecordLine]:
    subject = get_subject(session, code)
    sid = subject.id
    voids = {
        (v.record_kind, v.record_id): v.reason
        for v in session.exec(select(Void).where(Void.subject_id == sid))
    }
    lines: list[RecordLine] = []

    def add(
        kind: str,
        row_id: int | None,
        on: date,
        summary: str,
        row: DoseRecord | Hold | Resumption | AdverseEvent | Discontinuation | VisitRecord,
    ) -> None:
        rid = row_id or 0
        lines.append(
            RecordLine(
                kind, rid, on, summary, row.recorded_at, row.recorded_by, voids.get((kind, rid))
            )
        )

    for d in session.exec(select(DoseRecord).where(DoseRecord.subject_id == sid)):
        state = "taken" + (f" at {d.taken_at:%H:%M}" if d.taken_at else "") if d.taken else "missed"
        add("dose", d.id, d.dose_date, f"slot {d.slot} {state} {d.reason}".strip(), d)
    for h in session.exec(select(Hold).where(Hold.subject_id == sid)):
        add("hold", h.id, h.start_date, f"hold: {h.reason}", h)
    for r in session.exec(select(Resumption).where(Resumption.subject_id == sid)):
        dose = f" at {r.dose_mg:g} mg" if r.dose_mg is not None else ""
        add("resumption", r.id, r.resume_date, f"resume{dose} {r.reason}".strip(), r)
    for a in session.exec(select(AdverseEvent).where(AdverseEvent.subject_id == sid)):
        related = "related" if a.related else "unrelated"
        add(
            "adverse_event",
            a.id,
            a.onset,
            f"{a.term} grade {a.grade} ({related}) -> {a.proposed_action}",
            a,
        )
    for s in session.exec(select(Discontinuation).where(Discontinuation.subject_id == sid)):
        add("discontinuation", s.id, s.on_date, f"discontinued: {s.reason} {s.note}".strip(), s)
    for v in session.exec(select(VisitRecord).where(VisitRecord.subject_id == sid)):
        deviation = f" (deviation: {v.deviation})" if v.deviation else ""
        add("visit", v.id, v.actual_date, f"{v.code} done{deviation}", v)
    lines.sort(key=lambda line: (line.recorded_at, line.kind, line.id))
    return lines


def audit_of(session: Session, code: str) -> list[AuditEntry]:
    subject = get_subject(session, code)
    return list(
        session.exec(
            select(AuditEntry)
            .where(AuditEntry.subject_id == subject.id)
            .order_by(col(AuditEntry.id))
        ).all()
    )
