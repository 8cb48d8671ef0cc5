"""JSON API for labs: record a result or a blood pressure reading, list a subject's results
with their CTCAE grades and baselines, correct a baseline. Same services, roles and errors as
the pages and the CLI."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from scheduler.kernel.subject_state import subject_state
from scheduler.labs.baselines import correct_baseline
from scheduler.labs.day1 import confirm_computed_day1, evaluate_day1
from scheduler.labs.history import labs_json, subject_labs
from scheduler.labs.results import record_result
from scheduler.web.api_types import ERRORS, ApiModel, Day, Reason
from scheduler.web.deps import InvestigatorStaff, NurseStaff, SubjectCode, UnitDep, WriteRoute

router = APIRouter(prefix="/api", route_class=WriteRoute, responses=ERRORS, tags=["labs"])


class LabIn(ApiModel):
    test: str = Field(
        min_length=1, max_length=16, description="Test code of the CTCAE table, or BP"
    )
    value: str = Field(
        min_length=1, max_length=32, description="88; 2+ for a dipstick; 150/95 for BP"
    )
    unit: str | None = Field(default=None, max_length=16, description="Unit as reported")
    date: Day
    lln: float | None = Field(default=None, description="Lower limit of normal, same unit")
    uln: float | None = Field(default=None, description="Upper limit of normal, same unit")
    source: Literal["clinic", "home"] = "clinic"
    reason: Reason = ""


class BaselineIn(ApiModel):
    test: str = Field(min_length=1, max_length=16)
    result_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="None: no baseline")
    reason: Reason = Field(min_length=1)


@router.get("/subjects/{code}/labs")
def get_labs(code: SubjectCode, unit: UnitDep) -> dict[str, Any]:
    """The subject's results with their CTCAE v5.0 grades (against the baseline where CTCAE
    says so), and each test's baseline."""
    state = subject_state(unit.session, code, unit.now)
    return labs_json(code, subject_labs(unit.session, state))


@router.post("/subjects/{code}/labs", status_code=201)
def post_lab(code: SubjectCode, body: LabIn, _staff: NurseStaff, unit: UnitDep) -> dict[str, Any]:
    """Record a result; at or above the protocol's threshold it records the adverse event and
    answers its proposal, as ``POST /api/subjects/{code}/adverse-events`` would."""
    return record_result(
        unit,
        code,
        test=body.test,
        value=body.value,
        unit_text=body.unit,
        on=body.date,
        lln=body.lln,
        uln=body.uln,
        reason=body.reason,
        source=body.source,
    ).as_json()


@router.post("/subjects/{code}/labs/baselines", status_code=201)
def post_baseline(
    code: SubjectCode, body: BaselineIn, _staff: InvestigatorStaff, unit: UnitDep
) -> dict[str, Any]:
    """Correct a test's baseline (another result, or none), with a reason."""
    row = correct_baseline(unit, code, test=body.test, result_id=body.result_id, reason=body.reason)
    return {"id": row.id, "test": row.test, "result_id": row.result_id, "reason": row.reason}


class Day1ConfirmIn(ApiModel):
    on: Day | None = Field(default=None, description="Date confirmed (default: today)")


@router.get("/subjects/{code}/day1/{cycle}")
def get_day1(code: SubjectCode, cycle: int, unit: UnitDep) -> dict[str, Any]:
    """A cycle's day-1 criteria computed from the results within the protocol's look-back:
    met, not met (each failing criterion with its value) or incomplete (the missing tests)."""
    state = subject_state(unit.session, code, unit.now)
    return evaluate_day1(unit.session, state, cycle).as_json()


@router.post("/subjects/{code}/day1/{cycle}/confirm", status_code=201)
def post_day1_confirm(
    code: SubjectCode, cycle: int, body: Day1ConfirmIn, _staff: InvestigatorStaff, unit: UnitDep
) -> dict[str, Any]:
    """The investigator confirms the computed verdict (the day-1 check; "not met" delays the
    cycle). An incomplete check is refused naming the missing tests."""
    evaluation, check = confirm_computed_day1(unit, code, cycle=cycle, on=body.on)
    return evaluation.as_json() | {"check_id": check.id}
