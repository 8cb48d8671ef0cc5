"""CTCAE grade of one lab or vital-sign result, from the shipped grading table.

A result is graded against the site's normal range given with it and, where CTCAE says so,
against the subject's baseline: for ALT, AST, ALP and bilirubin an abnormal baseline (above its
own ULN) replaces the "x ULN" bounds with "x baseline" ones, so a liver test that was already
high after the resection is not read as a new toxicity. Values arrive in the grading unit
(the labs feature converts them); nothing here reads a file or the clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scheduler.errors import InputError
from scheduler.protocols.grading_table import GradeBound, LabTest

_SAME = 1e-9
"""Relative (and absolute) difference under which a value is read as on the bound: products
of a multiple and a limit are not exact in binary floating point."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Measured:
    """A value in the test's grading unit with the normal range it was reported with."""

    value: float
    lln: float | None = None
    uln: float | None = None


def baseline_abnormal(test: LabTest, baseline: Measured | None) -> bool:
    """Whether CTCAE's "if baseline was abnormal" bounds apply: the test has them and the
    baseline lies outside its own normal range on the side the test grades."""
    if baseline is None or not test.abnormal_baseline_grades:
        return False
    if test.direction == "high":
        return baseline.uln is not None and baseline.value > baseline.uln
    return baseline.lln is not None and baseline.value < baseline.lln


def _reference(bound: GradeBound, result: Measured, baseline: Measured | None) -> float | None:
    """The number the bound is a multiple of (``None``: not known, so the bound cannot apply)."""
    if bound.of == "value":
        return 1.0
    if bound.of == "uln":
        return result.uln
    if bound.of == "lln":
        return result.lln
    if baseline is None:
        return None
    return baseline.value  # "baseline" (a multiple) and "change" (a difference)


def _reached(bound: GradeBound, result: Measured, baseline: Measured | None) -> bool:
    reference = _reference(bound, result, baseline)
    if reference is None:
        return False
    if bound.of == "change":
        observed, limit = result.value - reference, bound.bound
    else:
        observed, limit = result.value, bound.bound * reference
    if math.isclose(observed, limit, rel_tol=_SAME, abs_tol=_SAME):
        return bound.inclusive  # 1.8 mg/dL is 1.5 x 1.2, though 1.5 * 1.2 is 1.7999999999999998
    return observed > limit if bound.rises else observed < limit


def missing_reference(test: LabTest, result: Measured) -> str | None:
    """The normal-range limit the test's grades need and the result lacks ("uln"/"lln")."""
    for needed in test.needs():
        if getattr(result, needed) is None:
            return needed
    return None


def grade(test: LabTest, result: Measured, baseline: Measured | None = None) -> int | None:
    """The CTCAE grade (0 = within grade 1's bound) of ``result``; ``None`` for a test CTCAE
    does not grade. The highest grade whose bound the value reaches wins, so the grade never
    falls as the value moves the way the test grades (rises for "high", falls for "low")."""
    if not test.grades:
        return None
    missing = missing_reference(test, result)
    if missing is not None:
        raise InputError(missing, f"{test.code} is graded against the {missing.upper()}; give it")
    bounds = test.abnormal_baseline_grades if baseline_abnormal(test, baseline) else test.grades
    return max((b.grade for b in bounds if _reached(b, result, baseline)), default=0)
