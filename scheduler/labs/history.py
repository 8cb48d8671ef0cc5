"""A subject's results as they stand (corrections applied), their baselines and their grades.

The baseline of a test is the last result before cycle 1 day 1, unless a baseline correction
names another result (or none). Results from cycle 1 day 1 on are graded against it where CTCAE
says so, on every read, so correcting a baseline regrades them at once; results before cycle 1
day 1 are the subject's history and are graded against the normal range alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from scheduler.core.lab_grades import Measured, grade
from scheduler.kernel.subject_state import SubjectState
from scheduler.models import LabBaseline, LabResult
from scheduler.protocols.grading_table import GradingTable, LabTest, ctcae_v5


@dataclass(frozen=True)
class GradedResult:
    row: LabResult
    test: LabTest
    grade: int | None
    is_baseline: bool


@dataclass(frozen=True)
class SubjectLabs:
    """Everything the faces show and the rules read about one subject's results."""

    results: tuple[GradedResult, ...]
    """Current results (corrected ones left out), by date then test then id."""
    baselines: dict[str, LabResult | None]
    """By test: the baseline result, for each test with results or a correction."""
    corrections: dict[str, LabBaseline]
    """By test: the baseline correction that counts, where one was recorded."""
    c1d1: date

    def of_test(self, code: str) -> list[GradedResult]:
        return [r for r in self.results if r.test.code == code]

    def latest(self, code: str, *, since: date, until: date) -> GradedResult | None:
        """The latest clinic result of a test taken within ``since``..``until``."""
        found = [
            r
            for r in self.of_test(code)
            if since <= r.row.taken_on <= until and r.row.source == "clinic"
        ]
        return found[-1] if found else None


def measured(row: LabResult) -> Measured:
    return Measured(value=row.value_std, lln=row.lln_std, uln=row.uln_std)


def current_rows(session: Session, subject_id: int) -> list[LabResult]:
    rows = list(
        session.exec(
            select(LabResult)
            .where(LabResult.subject_id == subject_id)
            .order_by(col(LabResult.taken_on), col(LabResult.test), col(LabResult.id))
        )
    )
    corrected = {row.corrects_id for row in rows if row.corrects_id is not None}
    return [row for row in rows if row.id not in corrected]


def baseline_corrections(session: Session, subject_id: int) -> dict[str, LabBaseline]:
    rows = session.exec(
        select(LabBaseline)
        .where(LabBaseline.subject_id == subject_id)
        .order_by(col(LabBaseline.id))
    )
    return {row.test: row for row in rows}  # the latest of each test wins


def subject_labs(
    session: Session, state: SubjectState, table: GradingTable | None = None
) -> SubjectLabs:
    table = table or ctcae_v5()
    subject_id = state.subject.id or 0
    c1d1 = state.plan().cycles[0].day1
    rows = current_rows(session, subject_id)
    corrections = baseline_corrections(session, subject_id)
    by_id = {row.id: row for row in rows}
    baselines: dict[str, LabResult | None] = {}
    for row in rows:
        if row.taken_on < c1d1 and row.source == "clinic":
            baselines[row.test] = row  # rows are in date order: the last one stays
    for code, correction in corrections.items():
        baselines[code] = by_id.get(correction.result_id) if correction.result_id else None
    graded = []
    for row in rows:
        test = table.tests[row.test]
        base = baselines.get(row.test)
        reference = measured(base) if base is not None and row.taken_on >= c1d1 else None
        graded.append(
            GradedResult(
                row=row,
                test=test,
                grade=grade(test, measured(row), reference),
                is_baseline=base is not None and base.id == row.id,
            )
        )
    return SubjectLabs(
        results=tuple(graded), baselines=baselines, corrections=corrections, c1d1=c1d1
    )


def labs_json(code: str, labs: SubjectLabs) -> dict[str, Any]:
    """One shape for `dosing labs --json` and the API."""
    return {
        "subject": code,
        "c1d1": labs.c1d1.isoformat(),
        "results": [
            {
                "id": r.row.id,
                "test": r.row.test,
                "date": r.row.taken_on.isoformat(),
                "value": r.row.reported,
                "unit": r.row.unit,
                "lln": r.row.lln,
                "uln": r.row.uln,
                "standard_value": r.row.value_std,
                "standard_unit": r.test.unit,
                "grade": r.grade,
                "term": r.test.term or None,
                "baseline": r.is_baseline,
                "source": r.row.source,
                "adverse_event": r.row.adverse_event_id,
            }
            for r in labs.results
        ],
        "baselines": {
            test: {
                "result": row.id if row is not None else None,
                "corrected": test in labs.corrections,
                "reason": labs.corrections[test].reason if test in labs.corrections else "",
            }
            for test, row in sorted(labs.baselines.items())
        },
    }
