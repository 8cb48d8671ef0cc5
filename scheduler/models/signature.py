"""Electronic signatures of investigators' decisions (21 CFR 11.50, 11.70).

A signature is bound to the exact record it signs by ``record_sha256``, the digest of that
record's stored values: verifying it recomputes the digest, so a signature copied or moved to
another record (or a record changed under it) no longer verifies. Each record is signed at most
once (a unique key), and the table is append-only like the records it signs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime


class Signature(SQLModel, table=True):
    """Who signed which record, when (UTC and the site's local time) and what it means."""

    __table_args__ = (UniqueConstraint("record_kind", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    record_kind: str = Field(max_length=32)
    record_id: int
    record_sha256: str = Field(max_length=64)
    signer_id: int = Field(foreign_key="staffuser.id", index=True)
    signer_account: str = Field(max_length=64)
    signer_name: str = Field(max_length=200)
    """The signer's full printed name at the time of signing (11.50(a)(1))."""
    signed_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    signed_local: str = Field(max_length=64)
    """The same moment at the site's clock, with its zone: ``2026-03-12 17:40 +08:00
    (Asia/Shanghai)``."""
    meaning: str = Field(max_length=300)
    """What the signature means (11.50(a)(3)): ``approved: hold from 2026-03-12``."""
    reason: str = Field(default="", max_length=500)
    """Why, when the decision departs from what the protocol proposes."""
