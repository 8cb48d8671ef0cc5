from __future__ import annotations

from datetime import date

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class Discontinuation(Recorded, table=True):
    """Permanent end of treatment. At most one stands per subject (others must be voided)."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    on_date: date
    reason: str = Field(max_length=32)
    note: str = Field(default="", max_length=500)
