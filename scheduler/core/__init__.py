"""The pure scheduling core: protocol + anchors + recorded events + today in, full plan out.

No I/O, no clock reads, no framework imports; an import-linter contract keeps it so.
"""

from scheduler.core.inputs import (
    AdverseEvent,
    Anchors,
    Day1Assessment,
    Discontinuation,
    DoseRecord,
    History,
    HoldStart,
    Resumption,
    VisitRecord,
)
from scheduler.core.plan import Plan, build_plan, plan_to_dict, plan_to_json
from scheduler.core.toxicity import Proposal, propose_action

__all__ = [
    "AdverseEvent",
    "Anchors",
    "Day1Assessment",
    "Discontinuation",
    "DoseRecord",
    "History",
    "HoldStart",
    "Plan",
    "Proposal",
    "Resumption",
    "VisitRecord",
    "build_plan",
    "plan_to_dict",
    "plan_to_json",
    "propose_action",
]
