"""Worklist items derived from a subject's results and adverse events (``scheduler.labs``):
an adverse event's proposal waiting for the investigator, a 24 h urine protein due after a
dipstick, a home blood pressure at the alert level. Derived like ``StandingItem``, by the labs
projection; only subjects with something to say have rows."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel


class LabWorkItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    kind: str = Field(max_length=32)
    what: str = Field(max_length=200)
    detail: str = Field(max_length=1000)
    shown_from: date
    """The day of the result or event it stands for; listed from then until the records
    change (the projection then rewrites the subject's rows)."""
