"""Staff accounts, their login sessions and their API tokens.

Secrets are never stored: passwords as argon2 hashes, session and API tokens (long random
strings) as SHA-256 digests, so a copy of the database lets nobody log in.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime

ROLES: tuple[str, ...] = ("nurse", "investigator", "pharmacist", "admin")


class StaffUser(SQLModel, table=True):
    """A member of staff; ``name`` is what the audit trail records as the actor."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    created_by: str = Field(max_length=64)


class StaffSession(SQLModel, table=True):
    """A browser login. The cookie holds the token; ``csrf_token`` is the synchronizer token
    every form of this session must send back."""

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    staff_id: int = Field(foreign_key="staffuser.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API, acting as its staff user."""

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    staff_id: int = Field(foreign_key="staffuser.id", index=True)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
