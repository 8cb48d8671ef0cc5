"""Screening: answers to the protocol's eligibility checklist, investigators' waivers, and
screen failures. Append-only, like every clinical record: a later answer to a criterion
replaces the earlier one in the checklist, and both stay."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class EligibilityAnswer(Recorded, table=True):
    """A criterion answered yes/no or with a value, with the document it was read from."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    criterion: str = Field(max_length=24)
    answer: str = Field(max_length=32)
    value: float | None = None
    source_document: str = Field(max_length=200)


class EligibilityWaiver(Recorded, table=True):
    """An investigator lets the subject start although ``criterion`` is not met, and says why."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    criterion: str = Field(max_length=24)
    reason: str = Field(max_length=500)


class ScreenFailure(Recorded, table=True):
    """The subject did not start: the failing criteria as they stood, and why."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    failed_on: date
    criteria: str = Field(max_length=500)
    """The failing criteria's codes, comma-separated."""
    reason: str = Field(max_length=500)
