"""Dose slots the plan shows as missed (latest record, voids left out), for "missed doses
reported in the last days" without scanning every dose record. Derived, like
``ScheduledVisit``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class MissedDose(SQLModel, table=True):
    __table_args__ = (Index("ix_misseddose_site_dose_date", "site_id", "dose_date"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    slot_key: str = Field(max_length=16)
    dose_date: date
    dose_mg: float
