"""Staff accounts, their login sessions and their API tokens.

Secrets are never stored: passwords as argon2 hashes, session and API tokens (long random
strings) as SHA-256 digests, so a copy of the database lets nobody log in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime

ROLES: tuple[str, ...] = ("nurse", "investigator", "pharmacist", "admin")


class StaffUser(SQLModel, table=True):
    """A member of staff; ``name`` is what the audit trail records as the actor."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    """The printed name a signature shows (the account name when empty)."""
    role: str = Field(max_length=16)
    language: str = Field(default="en", max_length=16)
    """The language of the account's pages (``scheduler.i18n.LANGUAGES``); audited when changed
    (``staff.language``)."""
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
    """A bearer token for the JSON API, acting as its staff user until ``expires_at`` or its
    revocation. ``last_used_at`` is kept to the minute, so a busy client costs no write per
    call."""

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    staff_id: int = Field(foreign_key="staffuser.id", index=True)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class StaffSite(SQLModel, table=True):
    """A site a staff account works at. An account without any row is study-wide (monitors,
    data managers, admins); with rows, it sees and changes only those sites' subjects."""

    staff_id: int = Field(foreign_key="staffuser.id", primary_key=True)
    site_id: int = Field(foreign_key="site.id", primary_key=True, index=True)


class LoginFailure(SQLModel, table=True):
    """A wrong password (or unknown name) typed at the login form: the throttle's memory.

    Not a clinical record: the rows of a name are deleted when that name logs in or an admin
    lifts its lockout, and rows older than a day are pruned. The audit trail keeps every
    failure for good (``staff.login_failed``)."""

    __table_args__ = (
        Index("ix_loginfailure_name_at", "name", "at"),
        Index("ix_loginfailure_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    address: str = Field(max_length=64)
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)
