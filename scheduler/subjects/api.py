"""JSON API: the operations of the staff pages and the CLI, for other systems. Every route needs
``Authorization: Bearer <token>`` (``dosing user token NAME``) and the token's staff role, the
same roles as the pages; every write is one unit of work whose audit actor is the token's user.
Errors are ``{"error": {"field", "reason"}}`` with the status of the error class.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from scheduler import core
from scheduler.core.inputs import DiscontinuationReason
from scheduler.i18n import Language
from scheduler.kernel.subject_state import subject_state
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.audit_log import audit_lines
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.previews import DateMove, DoseRun, Preview, preview_hold, preview_resume
from scheduler.subjects.treatment import discontinue, hold, resume
from scheduler.subjects.visits import record_visit
from scheduler.web.api_types import (
    ERRORS,
    ApiModel,
    ClockTime,
    Code,
    Day,
    Reason,
    RequiredReason,
    Text,
)
from scheduler.web.deps import (
    ClockDep,
    CurrentStaff,
    EngineDep,
    InvestigatorStaff,
    NurseStaff,
    SubjectCode,
    UnitDep,
    WriteRoute,
)

router = APIRouter(prefix="/api", route_class=WriteRoute, responses=ERRORS, tags=["subjects"])


class EnrolIn(ApiModel):
    subject: Code
    c1d1: Day = Field(description="Cycle 1 day 1")
    site: Code | None = Field(default=None, description="The site's code (default: the only one)")
    surgery: Day | None = Field(default=None, description="Where the protocol counts from it")
    tz: str | None = Field(
        default=None, max_length=64, description="IANA time zone (default: the site's)"
    )
    dose_time: ClockTime | None = Field(default=None, description="Default: the protocol's")
    protocol: Code | None = Field(default=None, description="Default: NCT03945799")
    language: Language | None = Field(
        default=None, description="What the patient reads (default: the site's)"
    )
    reason: Reason = Field(
        default="", description="The investigator's, to enrol outside the protocol's dates"
    )


class DoseIn(ApiModel):
    date: Day
    taken: bool
    at: ClockTime | None = None
    slot: int = Field(default=1, ge=1, le=6)
    reason: Reason = ""


class VisitIn(ApiModel):
    code: str = Field(min_length=1, max_length=32)
    on: Day
    reason: Reason = ""


class AdverseEventIn(ApiModel):
    term: Annotated[str, Text(limit=200, required=True)]
    grade: int = Field(ge=1, le=5)
    onset: Day
    related: bool = Field(
        description="Related to the study drug or not: required, causality is never assumed"
    )
    intolerable: bool = False
    reason: str = Field(
        default="",
        max_length=500,
        description="Why a second event with the same term, grade and onset is recorded",
    )


class HoldIn(ApiModel):
    start: Day = Field(description="First day without dosing")
    reason: RequiredReason
    adverse_event_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ResumeIn(ApiModel):
    on: Day = Field(description="First dosing day again")
    dose_mg: float | None = Field(default=None, gt=0, le=10_000)
    reason: Reason = ""


class DiscontinueIn(ApiModel):
    on: Day
    reason: DiscontinuationReason
    note: Reason = ""


def _plan(plan: core.Plan) -> dict[str, Any]:
    return core.plan_to_dict(plan)


@router.post("/subjects", status_code=201)
def post_subject(body: EnrolIn, _staff: NurseStaff, unit: UnitDep) -> dict[str, Any]:
    """Enrol a subject as ``dosing enroll`` does: the zone and the patient's language default to
    the site's, the dose time to the protocol's; the answer is the new subject's plan."""
    row = enroll(
        unit,
        body.subject,
        c1d1=body.c1d1,
        surgery=body.surgery,
        site_code=body.site,
        time_zone=body.tz,
        dose_time=body.dose_time,
        protocol_id=body.protocol,
        reason=body.reason,
        language=body.language,
    )
    return {
        **_plan(subject_state(unit.session, row.code, unit.now).plan()),
        "language": row.language,
    }


@router.get("/subjects/{code}/plan")
def plan(code: SubjectCode, unit: UnitDep) -> dict[str, Any]:
    """The subject's full plan as of today at their site."""
    return _plan(subject_state(unit.session, code, unit.now).plan())


@router.get("/audit")
def audit(
    unit: UnitDep,
    staff: CurrentStaff,
    subject: Annotated[Code | None, Query(description="One subject's trail")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Who changed what, when and why, newest first, with the old and new values; reminder
    addresses only for the roles that manage reminders (nurse, investigator)."""
    return [
        {
            "id": line.entry.id,
            "at": line.entry.at,
            "actor": line.entry.actor,
            "action": line.entry.action,
            "subject": line.subject,
            "entity": line.entry.entity,
            "entity_id": line.entry.entity_id,
            "old": None if line.old_value is None else json.loads(line.old_value),
            "new": None if line.new_value is None else json.loads(line.new_value),
            "reason": line.entry.reason,
        }
        for line in audit_lines(unit.session, subject, limit=limit, role=staff.role)
    ]


@router.post("/subjects/{code}/doses", status_code=201)
def post_dose(code: SubjectCode, body: DoseIn, _staff: NurseStaff, unit: UnitDep) -> dict[str, Any]:
    """Record a dose taken (optionally when) or missed; a second record of a slot needs a
    reason and corrects the first."""
    result = record_dose(
        unit, code, on=body.date, taken=body.taken, at=body.at, slot=body.slot, reason=body.reason
    )
    slot = result.slot
    return {
        "record_id": result.record.id,
        "corrected": result.corrected,
        "key": slot.key,
        "date": slot.date.isoformat(),
        "status": slot.status,
        "late_minutes": slot.late_minutes,
    }


@router.post("/subjects/{code}/visits", status_code=201)
def post_visit(
    code: SubjectCode, body: VisitIn, _staff: NurseStaff, unit: UnitDep
) -> dict[str, Any]:
    """Record a visit as done; outside its window only with a reason (a deviation)."""
    visit = record_visit(unit, code, body.code, on=body.on, reason=body.reason)
    return {
        "code": visit.code,
        "actual": visit.actual.isoformat() if visit.actual else None,
        "status": visit.status,
        "deviation": visit.deviation,
    }


@router.post("/subjects/{code}/adverse-events", status_code=201)
def post_adverse_event(
    code: SubjectCode, body: AdverseEventIn, _staff: NurseStaff, unit: UnitDep
) -> dict[str, Any]:
    """Record a graded adverse event; the answer carries the action the protocol proposes."""
    result = record_adverse_event(
        unit,
        code,
        term=body.term,
        grade=body.grade,
        onset=body.onset,
        related=body.related,
        intolerable=body.intolerable,
        reason=body.reason,
    )
    return result.as_json()


@router.post("/subjects/{code}/holds", status_code=201)
def post_hold(code: SubjectCode, body: HoldIn, _staff: NurseStaff, unit: UnitDep) -> dict[str, Any]:
    """Start a hold; the answer is the plan with it."""
    return _plan(
        hold(
            unit,
            code,
            start=body.start,
            reason=body.reason,
            adverse_event_id=body.adverse_event_id,
        )
    )


@router.post("/subjects/{code}/resumptions", status_code=201)
def post_resumption(
    code: SubjectCode, body: ResumeIn, _staff: InvestigatorStaff, unit: UnitDep
) -> dict[str, Any]:
    """Resume after a hold, optionally at a lower dose level (investigators only)."""
    return _plan(resume(unit, code, on=body.on, dose_mg=body.dose_mg, reason=body.reason))


@router.post("/subjects/{code}/discontinuation", status_code=201)
def post_discontinuation(
    code: SubjectCode, body: DiscontinueIn, _staff: InvestigatorStaff, unit: UnitDep
) -> dict[str, Any]:
    """Discontinue treatment (investigators only)."""
    return _plan(discontinue(unit, code, on=body.on, reason=body.reason, note=body.note))


def _runs(runs: tuple[DoseRun, ...]) -> list[dict[str, Any]]:
    return [
        {
            "cycle": r.cycle,
            "first_day": r.first_day,
            "last_day": r.last_day,
            "first": r.first,
            "last": r.last,
            "count": r.count,
            "tentative": r.tentative,
        }
        for r in runs
    ]


def _moves(moves: tuple[DateMove, ...]) -> list[dict[str, Any]]:
    return [{"what": m.what, "before": m.before, "after": m.after, "days": m.days} for m in moves]


def _preview(preview: Preview) -> dict[str, Any]:
    diff = preview.diff
    return {
        "stored": False,
        "status_before": diff.status_before,
        "status_after": diff.status_after,
        "lost": _runs(diff.lost),
        "lost_count": diff.lost_count,
        "restored": _runs(diff.restored),
        "restored_count": diff.restored_count,
        "cycles_moved": _moves(diff.cycles_moved),
        "visits_moved": _moves(diff.visits_moved),
        "levels": [
            {"cycle": lvl.cycle, "before_mg": lvl.before_mg, "after_mg": lvl.after_mg}
            for lvl in diff.levels
        ],
        "dose_changes": [
            {
                "cycle": lvl.cycle,
                "first_day": lvl.first_day,
                "last_day": lvl.last_day,
                "before_mg": lvl.before_mg,
                "after_mg": lvl.after_mg,
                "doses": lvl.count,
                "label": lvl.label,
            }
            for lvl in diff.levels
        ],
        "plan": _plan(preview.after),
    }


@router.post("/subjects/{code}/hold-preview")
def post_hold_preview(
    code: SubjectCode, body: HoldIn, staff: NurseStaff, engine: EngineDep, clock: ClockDep
) -> dict[str, Any]:
    """What the hold would do, stored nowhere: doses lost, cycle day 1s and visits moved, and
    the plan with it. The same checks as ``POST .../holds``."""
    return _preview(
        preview_hold(
            engine,
            staff.name,
            clock.now(),
            code,
            start=body.start,
            reason=body.reason,
            adverse_event_id=body.adverse_event_id,
        )
    )


@router.post("/subjects/{code}/resume-preview")
def post_resume_preview(
    code: SubjectCode, body: ResumeIn, staff: InvestigatorStaff, engine: EngineDep, clock: ClockDep
) -> dict[str, Any]:
    """What the resumption would do, stored nowhere: doses planned again, moves, dose level
    changes, and the plan with it (investigators only, like the resumption itself)."""
    return _preview(
        preview_resume(
            engine,
            staff.name,
            clock.now(),
            code,
            on=body.on,
            dose_mg=body.dose_mg,
            reason=body.reason,
        )
    )
