"""Screen failures and the screening log that CONSORT needs: who was screened, who failed and
on which criteria, who was enrolled (started C1D1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from scheduler.core.outputs import TAKEN
from scheduler.eligibility.checklist import checklist
from scheduler.errors import Conflict
from scheduler.kernel.subject_state import all_subjects, states, subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text, not_in_future, parse_date
from scheduler.models import ScreenFailure
from scheduler.subjects.treatment import discontinue


def record_screen_failure(unit: Unit, code: str, *, on: str | date, reason: str) -> ScreenFailure:
    """Record that the subject will not start, with the criteria failing now; the subject is
    discontinued before C1D1 (a screen failure: every later visit is cancelled)."""
    state = subject_state(unit.session, code, unit.now)
    day = not_in_future("on", parse_date("on", on), state.today)
    reason = check_text("reason", reason, required=True)
    failing = [line.criterion.code for line in checklist(unit.session, state) if line.met is False]
    if state.protocol.eligibility and not failing:
        raise Conflict("criterion", "no criterion of the checklist fails: record the answers first")
    row = ScreenFailure(
        subject_id=state.subject.id or 0,
        failed_on=day,
        criteria=", ".join(failing)[:500],
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "eligibility.screen_failure",
        entity="screenfailure",
        entity_id=row.id,
        subject_id=state.subject.id,
        new={"on": day, "criteria": failing},
        reason=reason,
    )
    discontinue(unit, code, on=day, reason="other", note=f"screen failure: {reason}"[:500])
    return row


@dataclass(frozen=True)
class LogLine:
    subject: str
    site: str
    outcome: str
    """``enrolled`` (a dose taken), ``failed`` (a screen failure), ``screening`` (neither yet),
    or ``withdrawn`` (stopped before a dose for another reason)."""
    day: date | None
    detail: str


def screening_log(session: Session, now: Any, site_code: str | None = None) -> list[LogLine]:
    subjects = all_subjects(session, site_code)
    failures = {
        f.subject_id: f
        for f in session.exec(
            select(ScreenFailure)
            .where(col(ScreenFailure.subject_id).in_([s.id for s in subjects]))
            .order_by(col(ScreenFailure.id))
        )
    }
    lines = []
    for state in states(session, subjects, now):
        plan = state.plan()
        failure = failures.get(state.subject.id or 0)
        first_dose = next((s.date for s in plan.doses() if s.status in TAKEN), None)
        if failure is not None:
            line = LogLine(
                plan.subject, state.site.code, "failed", failure.failed_on,
                f"{failure.criteria}: {failure.reason}",
            )  # fmt: skip
        elif first_dose is not None:
            line = LogLine(plan.subject, state.site.code, "enrolled", first_dose, "")
        elif plan.status in ("screen_failure", "withdrawn_before_treatment"):
            line = LogLine(plan.subject, state.site.code, "withdrawn", None, plan.status)
        else:
            line = LogLine(plan.subject, state.site.code, "screening", None, "")
        lines.append(line)
    return lines


def consort_counts(lines: list[LogLine]) -> dict[str, Any]:
    """Screened, failed (with each criterion's count), enrolled, still screening."""
    by_criterion: dict[str, int] = {}
    for line in lines:
        if line.outcome == "failed":
            for code in line.detail.split(":", 1)[0].split(", "):
                if code:
                    by_criterion[code] = by_criterion.get(code, 0) + 1
    return {
        "screened": len(lines),
        "failed": sum(1 for x in lines if x.outcome == "failed"),
        "failed_by_criterion": dict(sorted(by_criterion.items())),
        "withdrawn": sum(1 for x in lines if x.outcome == "withdrawn"),
        "enrolled": sum(1 for x in lines if x.outcome == "enrolled"),
        "screening": sum(1 for x in lines if x.outcome == "screening"),
    }
