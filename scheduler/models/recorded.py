"""Who recorded a clinical fact, and when: every event table carries these."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime


class Recorded(SQLModel):
    recorded_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    recorded_by: str = Field(max_length=64)
