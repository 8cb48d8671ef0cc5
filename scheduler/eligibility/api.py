"""JSON API for screening: the checklist, answers, waivers (investigator), screen failures and
the screening log. Same services, roles and errors as the CLI."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from scheduler.eligibility.checklist import answer_criterion, checklist, waive_criterion
from scheduler.eligibility.screening import consort_counts, record_screen_failure, screening_log
from scheduler.kernel.subject_state import subject_state
from scheduler.web.api_types import ERRORS, ApiModel, Code, Day, Reason
from scheduler.web.deps import InvestigatorStaff, NurseStaff, SubjectCode, UnitDep, WriteRoute

router = APIRouter(prefix="/api", route_class=WriteRoute, responses=ERRORS, tags=["eligibility"])


class AnswerIn(ApiModel):
    criterion: str = Field(min_length=1, max_length=24)
    answer: str = Field(min_length=1, max_length=32, description="yes, no or a value")
    source: str = Field(min_length=1, max_length=200, description="Source document")


class WaiverIn(ApiModel):
    criterion: str = Field(min_length=1, max_length=24)
    reason: Reason = Field(min_length=1)


class ScreenFailureIn(ApiModel):
    on: Day
    reason: Reason = Field(min_length=1)


def _checklist(unit: Any, code: str) -> dict[str, Any]:
    lines = checklist(unit.session, subject_state(unit.session, code, unit.now))
    return {"subject": code, "criteria": [line.as_json() for line in lines]}


@router.get("/subjects/{code}/eligibility")
def get_eligibility(code: SubjectCode, unit: UnitDep) -> dict[str, Any]:
    """The checklist: each criterion with its answer (or the lab values read), source, whether
    it is met, and any waiver."""
    return _checklist(unit, code)


@router.post("/subjects/{code}/eligibility/answers", status_code=201)
def post_answer(
    code: SubjectCode, body: AnswerIn, _staff: NurseStaff, unit: UnitDep
) -> dict[str, Any]:
    """Answer a yes/no or value criterion with its source document."""
    answer_criterion(unit, code, criterion=body.criterion, answer=body.answer, source=body.source)
    return _checklist(unit, code)


@router.post("/subjects/{code}/eligibility/waivers", status_code=201)
def post_waiver(
    code: SubjectCode, body: WaiverIn, _staff: InvestigatorStaff, unit: UnitDep
) -> dict[str, Any]:
    """Waive a criterion that is not met, with the reason (audited)."""
    waive_criterion(unit, code, criterion=body.criterion, reason=body.reason)
    return _checklist(unit, code)


@router.post("/subjects/{code}/screen-failure", status_code=201)
def post_screen_failure(
    code: SubjectCode, body: ScreenFailureIn, _staff: InvestigatorStaff, unit: UnitDep
) -> dict[str, Any]:
    """Record a screen failure with the failing criteria; the subject does not start."""
    row = record_screen_failure(unit, code, on=body.on, reason=body.reason)
    return {"id": row.id, "on": row.failed_on, "criteria": row.criteria, "reason": row.reason}


@router.get("/screening-log")
def get_screening_log(
    unit: UnitDep,
    site: Annotated[Code | None, Query(description="One site's log")] = None,
) -> dict[str, Any]:
    """Screened, failed with reasons, enrolled: the CONSORT counts and one line per subject."""
    lines = screening_log(unit.session, unit.now, site_code=site)
    return {
        "counts": consort_counts(lines),
        "subjects": [
            {"subject": x.subject, "site": x.site, "outcome": x.outcome, "date": x.day,
             "detail": x.detail}
            for x in lines
        ],
    }  # fmt: skip
