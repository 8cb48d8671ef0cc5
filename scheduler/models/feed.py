"""Calendar feed tables: event identities, secret-URL tokens and each feed's revision.

These are derived or access rows, not clinical records: identities and revisions are kept in
step with the plans (``services.feeds``); a token is never stored, only its SHA-256.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from scheduler.models.columns import UtcDateTime

FEED_KINDS = ("patient", "site_visits", "pharmacy", "appointments")


class FeedItemIdentity(SQLModel, table=True):
    """The UID and SEQUENCE of one event of one feed kind for one subject ("dose:C2D5").

    The UID is a random uuid4 given when the item is first planned and kept when it moves;
    SEQUENCE rises on every visible change (the fingerprint changed), at ``revised_at``.
    """

    __table_args__ = (UniqueConstraint("kind", "subject_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    key: str = Field(max_length=64)
    uid: str = Field(max_length=36, unique=True)
    sequence: int
    fingerprint: str = Field(max_length=64)
    revised_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class FeedToken(SQLModel, table=True):
    """A secret feed URL: only the SHA-256 of the token is kept. A patient token names a
    subject; a staff token (site_visits, pharmacy) names a site. Rotation revokes the old row."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    kind: str = Field(max_length=16)
    subject_id: int | None = Field(default=None, foreign_key="subject.id", index=True)
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    created_by: str = Field(max_length=64)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    revoked_by: str = Field(default="", max_length=64)


class FeedRevision(SQLModel, table=True):
    """Each feed's last revision: the SHA-256 of its body (the ETag) and when the body last
    changed (Last-Modified), which advances when an event changes or drops out.

    ``valid_on`` and ``options_digest`` say for which local day and feed options the digest was
    computed; ``source_revision`` is the revision of its subjects' records it was computed from
    (the subject's ``Subject.revision`` for a patient feed, the sum over the site's subjects for
    a staff feed): every unit of work that changes a subject's records bumps its revision, so a
    row whose source is still current lets a revalidation answer 304 without deriving the plan,
    and a write never has to touch the feeds (or lock a site's shared rows) itself.
    """

    id: int | None = Field(default=None, primary_key=True)
    feed: str = Field(max_length=48, unique=True, index=True)
    """"patient:<subject id>", "site_visits:<site id>" or "pharmacy:<site id>"."""
    digest: str = Field(max_length=64)
    revised_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    valid_on: date | None = None
    options_digest: str = Field(default="", max_length=64)
    source_revision: int = -1
