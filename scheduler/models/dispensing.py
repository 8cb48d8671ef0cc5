from __future__ import annotations

from datetime import date

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class Dispensing(Recorded, table=True):
    """Capsules handed to the subject for a cycle. The latest record for a subject, cycle and
    strength counts; a correction is a new record with a reason."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    cycle: int
    dispensed_on: date
    strength_mg: float
    capsule_count: int
    lot: str = Field(max_length=64)
    expiry: date
    reason: str = Field(default="", max_length=500)


class DrugReturn(Recorded, table=True):
    """Capsules the subject brought back from a cycle, counted at the next visit. The latest
    record for a subject, cycle and strength counts."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    cycle: int
    returned_on: date
    strength_mg: float
    capsule_count: int
    reason: str = Field(default="", max_length=500)


class ReconciliationReview(Recorded, table=True):
    """Someone looked at a cycle's dispensed-versus-returned discrepancy and explained it; it
    clears the discrepancy until a later dispensing or return record changes the figures."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    cycle: int
    note: str = Field(max_length=500)
