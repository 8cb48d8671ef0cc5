from __future__ import annotations

from datetime import date

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class AdverseEvent(Recorded, table=True):
    """A graded adverse event (CTCAE v5.0) and the action the rule table proposed when it was
    recorded, kept as proposed so the record shows what the investigator was told."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    term: str = Field(max_length=200)
    grade: int
    onset: date
    related: bool = True
    intolerable: bool = False
    proposed_action: str = Field(max_length=32)
    proposal_rule: str | None = Field(default=None, max_length=64)
    proposal_reason: str = Field(default="", max_length=500)
