"""SQLModel tables, one module per concept. What is stored is what happened; plans are derived.

Importing this package registers every table on ``SQLModel.metadata`` (Alembic reads it).
"""

from scheduler.models.adverse_event import AdverseEvent
from scheduler.models.audit import AuditEntry
from scheduler.models.day1_check import Day1Check
from scheduler.models.discontinuation import Discontinuation
from scheduler.models.dispensing import Dispensing, DrugReturn, ReconciliationReview
from scheduler.models.dose_record import DoseRecord
from scheduler.models.hold import Hold, Resumption
from scheduler.models.preparation import Preparation
from scheduler.models.protocol_version import ProtocolVersion
from scheduler.models.site import Site
from scheduler.models.subject import Subject
from scheduler.models.visit_record import VisitRecord
from scheduler.models.void import VOIDABLE_KINDS, Void

__all__ = [
    "VOIDABLE_KINDS",
    "AdverseEvent",
    "AuditEntry",
    "Day1Check",
    "Discontinuation",
    "Dispensing",
    "DoseRecord",
    "DrugReturn",
    "Hold",
    "Preparation",
    "ProtocolVersion",
    "ReconciliationReview",
    "Resumption",
    "Site",
    "Subject",
    "VisitRecord",
    "Void",
]
