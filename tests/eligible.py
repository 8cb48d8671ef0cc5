"""A subject's screening done right, for tests that start cycle 1 under a protocol with an
eligibility checklist (C1D1 is confirmed only once every criterion is met): screening labs
recorded and every other criterion answered. A plain module, like ``fixed_clock``."""

from __future__ import annotations

from datetime import date

from scheduler.eligibility.checklist import answer_criterion
from scheduler.kernel.unit import Unit
from scheduler.labs.results import record_result

SCREENING_LABS = {
    "CRCL": ("85", "mL/min", {}),
    "TBIL": ("18", "umol/L", {"uln": 20.5}),
    "ALB": ("38", "g/L", {"lln": 35}),
    "AST": ("30", "U/L", {"uln": 35}),
    "ALT": ("35", "U/L", {"uln": 40}),
    "ALP": ("100", "U/L", {"uln": 120}),
    "ANC": ("2.5", "10^9/L", {"lln": 1.8}),
    "HGB": ("12.5", "g/dL", {"lln": 12}),
    "PLT": ("160", "10^9/L", {"lln": 125}),
    "INR": ("1.1", "ratio", {}),
}
INCLUDED = ("NO_TRANSFUSION", "HCC", "HIGH_RISK", "CONSENT", "QTC")
EXCLUDED = (
    "PREGNANCY", "MALIGNANCY", "RECURRENT", "OTHER_TRIAL", "MENTAL", "POSTOP_THERAPY",
    "PROTEINURIA",
)  # fmt: skip


def make_eligible(unit: Unit, code: str, on: date | str) -> None:
    for test, (value, unit_text, limits) in SCREENING_LABS.items():
        record_result(unit, code, test=test, value=value, unit_text=unit_text, on=on, **limits)
    answers = {"AGE": "54", "CHILD_PUGH": "6", "ECOG": "1"}
    answers |= dict.fromkeys(INCLUDED, "yes") | dict.fromkeys(EXCLUDED, "no")
    for criterion, answer in answers.items():
        answer_criterion(unit, code, criterion=criterion, answer=answer, source="CRF")
