from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from scheduler.models.recorded import Recorded

VOIDABLE_KINDS: tuple[str, ...] = (
    "dose",
    "hold",
    "resumption",
    "adverse_event",
    "discontinuation",
    "visit",
)


class Void(Recorded, table=True):
    """A record entered in error, struck out with a reason. The record itself stays."""

    __table_args__ = (UniqueConstraint("record_kind", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    record_kind: str = Field(max_length=32)
    record_id: int
    reason: str = Field(max_length=500)
