"""SQLModel tables, one module per concept. What is stored is what happened; plans are derived.

Importing this package registers every table on ``SQLModel.metadata`` (Alembic reads it).
"""

from scheduler.models.adverse_event import AdverseEvent
from scheduler.models.audit import AuditEntry
from scheduler.models.discontinuation import Discontinuation
from scheduler.models.dose_record import DoseRecord
from scheduler.models.hold import Hold, Resumption
from scheduler.models.protocol_version import ProtocolVersion
from scheduler.models.site import Site
from scheduler.models.subject import Subject
from scheduler.models.visit_record import VisitRecord
from scheduler.models.void import VOIDABLE_KINDS, Void

__all__ = [
    "VOIDABLE_KINDS",
    "AdverseEvent",
    "AuditEntry",
    "Discontinuation",
    "DoseRecord",
    "Hold",
    "ProtocolVersion",
    "Resumption",
    "Site",
    "Subject",
    "VisitRecord",
    "Void",
]
