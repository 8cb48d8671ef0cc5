"""The pure scheduling core: protocol + anchors + recorded events + today in, full plan out.

No I/O, no clock reads, no framework imports; an import-linter contract keeps it so.
"""

from scheduler.core.inputs import (
    Anchors,
    Day1Assessment,
    DoseOutcome,
    History,
    HoldEnd,
    HoldStart,
    ToxicityReport,
    TreatmentStop,
    VisitDone,
)
from scheduler.core.plan import Plan, build_plan, plan_to_dict, plan_to_json
from scheduler.core.toxicity import Proposal, propose_action

__all__ = [
    "Anchors",
    "Day1Assessment",
    "DoseOutcome",
    "History",
    "HoldEnd",
    "HoldStart",
    "Plan",
    "Proposal",
    "ToxicityReport",
    "TreatmentStop",
    "VisitDone",
    "build_plan",
    "plan_to_dict",
    "plan_to_json",
    "propose_action",
]
