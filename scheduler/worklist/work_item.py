"""One line of the nurse's worklist, and the groups it is shown in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from scheduler.core.wording import N_

ItemKind = Literal[
    "visit_overdue",
    "visit_due",
    "day1_check",
    "missed_doses",
    "dose_deviation",
    "new_strength",
    "proposal",
    "visit_in_window",
    "on_hold",
    "unrecorded_doses",
    "drug_discrepancy",
    "awaiting_signature",
    "ae_proposal",
    "urine_protein_due",
    "home_bp",
    "rebook",
    "patient_bp",
    "patient_not_taken",
    "patient_unreported",
]
Urgency = Literal["overdue", "today", "window", "watch"]
URGENCY_TITLES: dict[Urgency, str] = {
    "overdue": N_("Overdue or needs a decision"),
    "today": N_("Today"),
    "window": N_("Window open"),
    "watch": N_("Keep an eye on"),
}
"""The groups of the list, most urgent first."""


@dataclass(frozen=True, slots=True)
class WorkItem:
    subject: str
    site: str
    kind: str
    what: str
    detail: str
    target: date | None = None
    window_start: date | None = None
    window_end: date | None = None
    visit_code: str | None = None
    dose_mg: float | None = None
    urgency: Urgency = "watch"
    cycle: int | None = None
    """The cycle a day-1 check is for: the row links to its confirmation form."""
