from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime


class AuditEntry(SQLModel, table=True):
    """Who changed what, when, and why. Written in the same transaction as the change, never
    changed afterwards (triggers refuse it), and chained: ``entry_hash`` covers the entry and
    ``prev_hash``, the hash of the entry before it (``scheduler.kernel.audit_chain``)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime, nullable=False, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    subject_id: int | None = Field(default=None, foreign_key="subject.id", index=True)
    entity: str = Field(max_length=64)
    entity_id: int | None = None
    old_value: str | None = Field(default=None, sa_type=Text)
    new_value: str | None = Field(default=None, sa_type=Text)
    reason: str = Field(default="", max_length=500)
    prev_hash: str = Field(default="", max_length=64)
    """Set when the entry is linked to the chain, just before it is inserted."""
    entry_hash: str = Field(default="", max_length=64)
