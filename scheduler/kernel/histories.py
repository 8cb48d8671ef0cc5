"""Stored rows to core values: a subject's history with voided records left out.

Histories load in one query for any number of subjects: a UNION ALL over the record tables, each
table's values in shared columns (those a table lacks are typed NULLs), built once. A write reads
its subject's history in one round trip, and worklists and feeds over a whole site query neither
once per subject nor once per table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    String,
    Time,
    bindparam,
    literal,
    null,
    union_all,
)
from sqlalchemy import select as core_select
from sqlmodel import Session

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

_SHARED: dict[str, Any] = {
    "day": Date(),
    "number": Integer(),
    "amount": Float(),
    "flag": Boolean(),
    "other_flag": Boolean(),
    "text": String(),
    "other_text": String(),
    "clock": Time(),
}
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)


def _part(model: Any, kind: str, **values: ColumnElement[Any]) -> Select[Any]:
    table = model.__table__.c
    columns: list[ColumnElement[Any]] = [
        literal(kind, String()).label("kind"),
        table.id.label("id"),
        table.subject_id.label("subject_id"),
    ]
    for name, type_ in _SHARED.items():
        columns.append(values.get(name, null().cast(type_)).label(name))
    return core_select(*columns).where(table.subject_id.in_(_IDS))


def _statement() -> Any:
    dose = DoseRecord.__table__.c  # type: ignore[attr-defined]
    hold = Hold.__table__.c  # type: ignore[attr-defined]
    resumption = Resumption.__table__.c  # type: ignore[attr-defined]
    stop = Discontinuation.__table__.c  # type: ignore[attr-defined]
    event = AdverseEvent.__table__.c  # type: ignore[attr-defined]
    visit = VisitRecord.__table__.c  # type: ignore[attr-defined]
    check = Day1Check.__table__.c  # type: ignore[attr-defined]
    void = Void.__table__.c  # type: ignore[attr-defined]
    parts = union_all(
        _part(Void, "void", number=void.record_id, text=void.record_kind),
        _part(
            DoseRecord,
            "dose",
            day=dose.dose_date,
            number=dose.slot,
            flag=dose.taken,
            clock=dose.taken_at,
        ),
        _part(Hold, "hold", day=hold.start_date, text=hold.reason),
        _part(Resumption, "resumption", day=resumption.resume_date, amount=resumption.dose_mg),
        _part(Discontinuation, "discontinuation", day=stop.on_date, text=stop.reason),
        _part(
            AdverseEvent,
            "adverse_event",
            day=event.onset,
            number=event.grade,
            flag=event.related,
            other_flag=event.intolerable,
            text=event.term,
        ),
        _part(
            VisitRecord,
            "visit",
            day=visit.actual_date,
            text=visit.code,
            other_text=visit.deviation,
        ),
        _part(Day1Check, "day1_check", day=check.assessed_on, number=check.cycle, flag=check.met),
    ).subquery()
    return core_select(parts).order_by(parts.c.kind, parts.c.id)


_RECORDS = _statement()
"""Every record of the subjects in ``ids``, by table and in the order they were stored."""


def load_histories(session: Session, subject_ids: Iterable[int]) -> dict[int, core.History]:
    ids = sorted(set(subject_ids))
    if not ids:
        return {}
    rows = session.execute(_RECORDS, {"ids": ids}).all()
    voided = {(row.text, row.number) for row in rows if row.kind == "void"}
    doses: dict[int, list[core.DoseOutcome]] = defaultdict(list)
    holds: dict[int, list[core.HoldStart]] = defaultdict(list)
    resumptions: dict[int, list[core.HoldEnd]] = defaultdict(list)
    stops: dict[int, core.TreatmentStop] = {}
    events: dict[int, list[core.ToxicityReport]] = defaultdict(list)
    visits: dict[int, list[core.VisitDone]] = defaultdict(list)
    checks: dict[int, list[core.Day1Assessment]] = defaultdict(list)
    for row in rows:
        kind, sid = row.kind, row.subject_id
        if kind == "void" or (kind != "day1_check" and (kind, row.id) in voided):
            continue
        if kind == "dose":
            doses[sid].append(
                core.DoseOutcome(
                    id=row.id, on=row.day, taken=row.flag, slot=row.number, taken_at=row.clock
                )
            )
        elif kind == "hold":
            holds[sid].append(core.HoldStart(id=row.id, on=row.day, reason=row.text))
        elif kind == "resumption":
            resumptions[sid].append(core.HoldEnd(id=row.id, on=row.day, dose_mg=row.amount))
        elif kind == "discontinuation":
            stops[sid] = core.TreatmentStop(id=row.id, on=row.day, reason=row.text)
        elif kind == "adverse_event":
            events[sid].append(
                core.ToxicityReport(
                    id=row.id,
                    term=row.text,
                    grade=row.number,
                    onset=row.day,
                    related=row.flag,
                    intolerable=row.other_flag,
                )
            )
        elif kind == "visit":
            visits[sid].append(
                core.VisitDone(id=row.id, code=row.text, on=row.day, deviation=row.other_text)
            )
        else:
            checks[sid].append(
                core.Day1Assessment(id=row.id, cycle=row.number, on=row.day, met=row.flag)
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
