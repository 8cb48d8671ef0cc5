"""Day-1 criteria computed from the results: for a cycle from 2 on, each criterion of the
protocol is evaluated from the results recorded within the look-back before its day 1
(``[labs] day1_lookback_days``), giving met, not met (naming each failing criterion and value)
or incomplete (naming the missing tests). The investigator confirms the verdict through the
existing day-1 confirmation (``pharmacy.accountability.confirm_day1``), so "not met" delays
the cycle exactly as a hand-entered one does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from scheduler.core.lab_grades import Measured
from scheduler.core.lab_rules import (
    Day1Finding,
    Verdict,
    day1_ae_finding,
    day1_test_finding,
    day1_verdict,
)
from scheduler.errors import Conflict, InputError
from scheduler.kernel.subject_state import SubjectState, subject_state
from scheduler.kernel.unit import Unit
from scheduler.labs.history import SubjectLabs, measured, subject_labs
from scheduler.models import Day1Check
from scheduler.pharmacy.accountability import confirm_day1

DEFAULT_LOOKBACK_DAYS = 3


@dataclass(frozen=True)
class Day1Evaluation:
    cycle: int
    day1: date
    since: date
    verdict: Verdict
    findings: list[Day1Finding]

    def failing(self) -> str:
        """Each failing (or missing) criterion with its values, for the confirmation's reason."""
        wanted = False if self.verdict == "not met" else None
        return "; ".join(f"{f.code}: {f.detail}" for f in self.findings if f.met is wanted)

    def as_json(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle,
            "day1": self.day1.isoformat(),
            "results_since": self.since.isoformat(),
            "verdict": self.verdict,
            "criteria": [
                {"code": f.code, "description": f.description, "met": f.met, "detail": f.detail}
                for f in self.findings
            ],
        }


def _ae_status(
    state: SubjectState, labs: SubjectLabs, since_day1: date, day1: date, window: date
) -> tuple[list[str], list[str]]:
    """(not recovered, recovery not recorded) among related events of grade >= 2 with onset
    from the previous day 1 on."""
    by_event = {r.row.adverse_event_id: r for r in labs.results if r.row.adverse_event_id}
    not_recovered, unknown = [], []
    for event in state.history.adverse_events:
        if not event.related or event.grade < 2 or not since_day1 <= event.onset <= day1:
            continue
        label = f"{event.term} grade {event.grade} on {event.onset}"
        source = by_event.get(event.id)
        if source is None:
            unknown.append(label)
            continue
        latest = labs.latest(source.test.code, since=window, until=day1)
        if latest is None:
            unknown.append(f"{label} (no {source.test.code} since {window})")
        elif (latest.grade or 0) > 1:
            not_recovered.append(f"{label}: {source.test.code} grade {latest.grade} now")
    return not_recovered, unknown


def evaluate_day1(session: Session, state: SubjectState, cycle: int) -> Day1Evaluation:
    plan = state.plan()
    if not 2 <= cycle <= len(plan.cycles):
        raise InputError("cycle", f"{cycle} is not a cycle 2..{len(plan.cycles)} of the plan")
    rules = state.protocol.labs
    lookback = rules.day1_lookback_days if rules is not None else DEFAULT_LOOKBACK_DAYS
    day1 = plan.cycles[cycle - 1].day1
    since = day1 - timedelta(days=lookback)
    labs = subject_labs(session, state)
    latest: dict[str, Measured] = {}
    for code in {r.test.code for r in labs.results}:
        found = labs.latest(code, since=since, until=day1)
        if found is not None:
            latest[code] = measured(found.row)
    findings = []
    for criterion in state.protocol.day1_criteria:
        if criterion.tests:
            findings.append(day1_test_finding(criterion, latest, lookback))
        elif criterion.related_aes_recovered:
            previous = plan.cycles[cycle - 2].day1
            findings.append(
                day1_ae_finding(criterion, *_ae_status(state, labs, previous, day1, since))
            )
    return Day1Evaluation(
        cycle=cycle, day1=day1, since=since, verdict=day1_verdict(findings), findings=findings
    )


def confirm_computed_day1(
    unit: Unit, code: str, *, cycle: int, on: str | date | None = None
) -> tuple[Day1Evaluation, Day1Check]:
    """The investigator confirms the computed verdict: recorded through the existing day-1
    confirmation, a "not met" with the failing criteria as its reason. An incomplete check is
    refused naming the missing tests (record them, or judge with `dosing criteria`)."""
    state = subject_state(unit.session, code, unit.now)
    evaluation = evaluate_day1(unit.session, state, cycle)
    if evaluation.verdict == "incomplete":
        raise Conflict("cycle", f"cycle {cycle} day-1 criteria incomplete: {evaluation.failing()}")
    met = evaluation.verdict == "met"
    reason = "" if met else f"computed: {evaluation.failing()}"[:500]
    check = confirm_day1(unit, code, cycle=cycle, met=met, reason=reason, on=on)
    return evaluation, check
