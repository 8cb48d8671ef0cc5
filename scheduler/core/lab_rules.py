"""The protocol's rules on graded results, one function per rule and protocol key.

Each takes the rule's protocol data and plain values (grades, values in the grading unit with
their limits); the labs feature loads the results and acts on the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scheduler.core.lab_grades import Measured
from scheduler.protocols.schema import (
    BloodPressureLimit,
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
