"""Whether one screening criterion is met (``[[eligibility]]``), from a yes/no answer, a
value, or the latest lab results; and whether a checklist lets the subject start C1D1."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scheduler.core.lab_grades import Measured
from scheduler.protocols.schema import EligibilityCriterion


def within_limits(criterion: EligibilityCriterion, value: float, scale: float = 1.0) -> bool:
    """Every limit the criterion gives holds (``above``/``at_least``/``below``/``at_most``)."""
    checks = (
        criterion.above is None or value > criterion.above * scale,
        criterion.at_least is None or value >= criterion.at_least * scale,
        criterion.below is None or value < criterion.below * scale,
        criterion.at_most is None or value <= criterion.at_most * scale,
    )
    return all(checks)


def criterion_met(
    criterion: EligibilityCriterion,
    answer: str | None,
    value: float | None,
    results: Mapping[str, Measured],
) -> bool | None:
    """True when the criterion does not stand in the way of enrolment, False when it does,
    None while it is unanswered (or a lab test it needs has no result, or no ULN)."""
    if criterion.answer == "yes_no":
        if answer is None:
            return None
        return answer == ("yes" if criterion.kind == "inclusion" else "no")
    if criterion.answer == "value":
        if value is None:
            return None
        inside = within_limits(criterion, value)
    else:
        verdicts = []
        for code in criterion.tests:
            found = results.get(code)
            if found is None or (criterion.of == "uln" and found.uln is None):
                return None
            scale = found.uln if criterion.of == "uln" and found.uln is not None else 1.0
            verdicts.append(within_limits(criterion, found.value, scale))
        inside = all(verdicts)
    return inside if criterion.kind == "inclusion" else not inside


@dataclass(frozen=True, slots=True)
class Standing:
    code: str
    met: bool | None
    waived: bool


def may_enrol(standings: list[Standing]) -> bool:
    """C1D1 may start once every criterion is met or waived by an investigator."""
    return all(s.met is True or s.waived for s in standings)
