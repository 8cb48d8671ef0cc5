from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime


class ProtocolVersion(SQLModel, table=True):
    """The exact protocol text a subject was enrolled under.

    Subjects point at a version, not at a file, so editing a protocol file never silently
    changes the plan of someone already on treatment: an amendment is a new version.
    """

    __table_args__ = (UniqueConstraint("protocol_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: str = Field(max_length=64, index=True)
    version: str = Field(max_length=32)
    sha256: str = Field(max_length=64)
    source: str = Field(sa_type=Text)
    loaded_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
