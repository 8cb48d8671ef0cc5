"""The protocol's rules on graded results, one function per rule and protocol key.

Each takes the rule's protocol data and plain values (grades, values in the grading unit with
their limits); the labs feature loads the results and acts on the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from scheduler.core.lab_grades import Measured
from scheduler.core.plan import Plan
from scheduler.protocols.schema import (
    BloodPressureLimit,
    Day1Criterion,
    HomeBloodPressure,
    HysLaw,
    LabRules,
    UrineProteinFollowup,
)


def reports_adverse_event(
    rules: LabRules, test: str, grade: int | None, previous_grade: int | None
) -> bool:
    """``[labs] ae_min_grade``, ``ae_min_grade_by_test``, ``no_ae_tests``: a result records an
    adverse event when its grade reaches the test's threshold and is worse than the result
    before it (an unchanged grade is the same event going on, not a new one)."""
    if grade is None or test in rules.no_ae_tests:
        return False
    if grade < rules.ae_threshold(test):
        return False
    return previous_grade is None or grade > previous_grade


def hys_law_pattern(
    rule: HysLaw,
    transaminases: list[Measured],
    bilirubin: Measured | None,
) -> bool:
    """``[labs.hys_law]``: ALT or AST above ``transaminase_x_uln`` x ULN with total bilirubin
    above ``bilirubin_x_uln`` x ULN (results of one day)."""
    if bilirubin is None or bilirubin.uln is None:
        return False
    high_enzyme = any(
        m.uln is not None and m.value > rule.transaminase_x_uln * m.uln for m in transaminases
    )
    return high_enzyme and bilirubin.value > rule.bilirubin_x_uln * bilirubin.uln


def quantified_protein_due(
    rule: UrineProteinFollowup, dipsticks: list[tuple[date, float]], quantified: list[date]
) -> date | None:
    """``[labs.urine_protein_followup]``: the day of the first dipstick at or above
    ``dipstick_from`` that no quantified urine protein (24 h or UPCR) followed, if any. Such a
    dipstick holds nothing; the quantified result decides."""
    for day, value in sorted(dipsticks):
        if value >= rule.dipstick_from and not any(q >= day for q in quantified):
            return day
    return None


def at_or_above(limit: BloodPressureLimit, systolic: float | None, diastolic: float | None) -> bool:
    """A blood pressure reaches ``limit`` when either number does."""
    return (systolic is not None and systolic >= limit.systolic) or (
        diastolic is not None and diastolic >= limit.diastolic
    )


def home_bp_days(rule: HomeBloodPressure, plan: Plan) -> frozenset[date]:
    """``[labs.home_bp] cycles``: the days a home reading is asked for, the dosing days of the
    cycles the rule names (held and cancelled days included: the plan still has them)."""
    return frozenset(
        dose.date for cycle in plan.cycles if cycle.number in rule.cycles for dose in cycle.doses
    )


def home_bp_alert(
    rule: HomeBloodPressure, cycle: int | None, systolic: float | None, diastolic: float | None
) -> bool:
    """``[labs.home_bp]``: a home reading on a cycle the rule covers at or above ``alert_at``
    lists the subject on the worklist."""
    return cycle in rule.cycles and at_or_above(rule.alert_at, systolic, diastolic)


@dataclass(frozen=True, slots=True)
class Day1Finding:
    """One day-1 criterion: ``met`` is None when a test it needs has no recent result."""

    code: str
    description: str
    met: bool | None
    detail: str


Verdict = Literal["met", "not met", "incomplete"]


def _limit_text(criterion: Day1Criterion) -> str:
    for word, value in (("at least", criterion.at_least), ("below", criterion.below)):
        if value is not None:
            return f"{word} {value:g}"
    return f"at most {criterion.at_most:g}"


def _passes(criterion: Day1Criterion, value: float, scale: float) -> bool:
    if criterion.at_least is not None:
        return value >= criterion.at_least * scale
    if criterion.below is not None:
        return value < criterion.below * scale
    return criterion.at_most is not None and value <= criterion.at_most * scale


def day1_test_finding(
    criterion: Day1Criterion, latest: Mapping[str, Measured], lookback_days: int
) -> Day1Finding:
    """``[[day1_criteria]]`` with ``tests``: each test's latest result within the look-back
    must meet the limit (x its ULN with ``of = "uln"``); a quantified alternative
    (``or_tests``), when recorded, decides instead."""
    alternatives = [(code, latest[code]) for code in criterion.or_tests if code in latest]
    if alternatives and criterion.or_at_most is not None:
        code, decisive = alternatives[-1]
        return Day1Finding(
            criterion.code,
            criterion.description,
            decisive.value <= criterion.or_at_most,
            f"{code} {decisive.value:g} (at most {criterion.or_at_most:g})",
        )
    details, met_all, missing = [], True, []
    for code in criterion.tests:
        found = latest.get(code)
        if found is None:
            missing.append(code)
            continue
        scale = 1.0
        if criterion.of == "uln":
            if found.uln is None:
                missing.append(f"{code} ULN")
                continue
            scale = found.uln
        ok = _passes(criterion, found.value, scale)
        met_all = met_all and ok
        unit = " x ULN" if criterion.of == "uln" else ""
        shown = found.value / scale
        details.append(f"{code} {shown:g}{unit} ({_limit_text(criterion)}{unit})")
    if missing:
        return Day1Finding(
            criterion.code,
            criterion.description,
            None if met_all else False,
            f"no result within {lookback_days} days before day 1: {', '.join(missing)}"
            + (f"; {'; '.join(details)}" if details else ""),
        )
    return Day1Finding(criterion.code, criterion.description, met_all, "; ".join(details))


def day1_ae_finding(
    criterion: Day1Criterion, not_recovered: list[str], unknown: list[str]
) -> Day1Finding:
    """``related_aes_recovered``: every related adverse event of grade 2 or more since the
    previous day 1 is back to grade <= 1 (or baseline). ``not_recovered`` names those whose
    latest result says not; ``unknown`` those no result speaks for (typed events), which the
    investigator judges."""
    if not_recovered:
        return Day1Finding(criterion.code, criterion.description, False, "; ".join(not_recovered))
    if unknown:
        detail = "recovery not recorded: " + "; ".join(unknown)
        return Day1Finding(criterion.code, criterion.description, None, detail)
    return Day1Finding(criterion.code, criterion.description, True, "none outstanding")


def day1_verdict(findings: list[Day1Finding]) -> Verdict:
    """Not met if any criterion fails; else incomplete if any lacks a result; else met."""
    if any(f.met is False for f in findings):
        return "not met"
    if any(f.met is None for f in findings):
        return "incomplete"
    return "met"
