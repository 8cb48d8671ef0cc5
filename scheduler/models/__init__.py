"""SQLModel tables, one module per concept. What is stored is what happened; plans are derived.

Importing this package registers every table on ``SQLModel.metadata`` (Alembic reads it).
"""

from scheduler.models.adverse_event import AdverseEvent
from scheduler.models.appointment import Appointment, Clinic, ClinicCapacity
from scheduler.models.audit import AuditEntry
from scheduler.models.day1_check import Day1Check
from scheduler.models.discontinuation import Discontinuation
from scheduler.models.dispensing import Dispensing, DrugReturn, ReconciliationReview
from scheduler.models.dose_record import DoseRecord
from scheduler.models.eligibility import EligibilityAnswer, EligibilityWaiver, ScreenFailure
from scheduler.models.feed import FeedItemIdentity, FeedRevision, FeedToken
from scheduler.models.hold import Hold, Resumption
from scheduler.models.kept_preparation import (
    KeptCapsuleTotal,
    KeptPreparationRow,
    PreparationStamp,
)
from scheduler.models.lab_result import LabBaseline, LabResult
from scheduler.models.lab_work_item import LabWorkItem
from scheduler.models.missed_dose import MissedDose
from scheduler.models.patient_report import (
    PatientLink,
    PatientReport,
    PatientRequest,
    PatientReview,
    PatientWorkItem,
)
from scheduler.models.preparation import DispensingNotNeeded, Preparation
from scheduler.models.protocol_version import ProtocolVersion
from scheduler.models.reminder import Reminder, ReminderPreference
from scheduler.models.scheduled_visit import ScheduledVisit
from scheduler.models.signature import Signature
from scheduler.models.site import Site
from scheduler.models.staff import (
    ROLES,
    ApiToken,
    LoginFailure,
    StaffSession,
    StaffSite,
    StaffUser,
)
from scheduler.models.standing_item import StandingItem
from scheduler.models.subject import Subject
from scheduler.models.subject_status import SubjectStatus
from scheduler.models.visit_record import VisitRecord
from scheduler.models.void import VOIDABLE_KINDS, Void

__all__ = [
    "ROLES",
    "VOIDABLE_KINDS",
    "AdverseEvent",
    "ApiToken",
    "Appointment",
    "AuditEntry",
    "Clinic",
    "ClinicCapacity",
    "Day1Check",
    "Discontinuation",
    "Dispensing",
    "DispensingNotNeeded",
    "DoseRecord",
    "DrugReturn",
    "EligibilityAnswer",
    "EligibilityWaiver",
    "FeedItemIdentity",
    "FeedRevision",
    "FeedToken",
    "Hold",
    "KeptCapsuleTotal",
    "KeptPreparationRow",
    "LabBaseline",
    "LabResult",
    "LabWorkItem",
    "LoginFailure",
    "MissedDose",
    "PatientLink",
    "PatientReport",
    "PatientRequest",
    "PatientReview",
    "PatientWorkItem",
    "Preparation",
    "PreparationStamp",
    "ProtocolVersion",
    "ReconciliationReview",
    "Reminder",
    "ReminderPreference",
    "Resumption",
    "ScheduledVisit",
    "ScreenFailure",
    "Signature",
    "Site",
    "StaffSession",
    "StaffSite",
    "StaffUser",
    "StandingItem",
    "Subject",
    "SubjectStatus",
    "VisitRecord",
    "Void",
]
