"""Feed links: the secret tokens a patient or a site subscribes with, issued and withdrawn by staff
and audited; only their hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from scheduler.errors import InputError, NotFound
from scheduler.kernel.sites import get_site
from scheduler.kernel.subject_state import get_subject
from scheduler.kernel.unit import Unit
from scheduler.models import FeedToken
from scheduler.settings import LOCAL_BASE_URL, Settings

PATIENT = "patient"
SITE_VISITS = "site_visits"
PHARMACY = "pharmacy"
APPOINTMENTS = "appointments"
"""A site's booked appointments (``scheduler.appointments``), one timed event each."""
STAFF_KINDS = (SITE_VISITS, PHARMACY, APPOINTMENTS)
APPOINTMENTS_PAST_DAYS = 7
APPOINTMENTS_AHEAD_DAYS = 120
PHARMACY_PAST_DAYS = 30
PHARMACY_AHEAD_DAYS = 400
_BODIES_MAX = 4096


class FeedGone(NotFound):
    """The token existed and was revoked or rotated: HTTP 410, so clients stop polling."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    https: str
    webcal: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def feed_urls(settings: Settings, token: str) -> tuple[str, str]:
    """The https (or http, for a local base) and webcal:// forms of a feed URL."""
    base = (settings.public_base_url or LOCAL_BASE_URL).rstrip("/")
    url = f"{base}/feeds/{token}.ics"
    return url, "webcal://" + url.split("://", 1)[1]


def _owner(unit: Unit, kind: str, code: str) -> tuple[int | None, int | None, int | None]:
    """(subject id, site id, subject id for the audit) of the feed named by kind and code."""
    if kind == PATIENT:
        subject = get_subject(unit.session, code)
        return subject.id, None, subject.id
    if kind in STAFF_KINDS:
        return None, get_site(unit.session, code).id, None
    raise InputError("kind", f"{kind!r} is not a feed kind ({PATIENT}, {', '.join(STAFF_KINDS)})")


def _active(unit: Unit, kind: str, subject_id: int | None, site_id: int | None) -> list[FeedToken]:
    query = select(FeedToken).where(
        FeedToken.kind == kind,
        col(FeedToken.revoked_at).is_(None),
        FeedToken.subject_id == subject_id
        if subject_id is not None
        else col(FeedToken.subject_id).is_(None),
        FeedToken.site_id == site_id if site_id is not None else col(FeedToken.site_id).is_(None),
    )
    return list(unit.session.exec(query))


def revoke_feed(unit: Unit, kind: str, code: str, *, reason: str = "") -> int:
    """Revoke every live URL of the feed; returns how many were revoked (0 is not an error)."""
    subject_id, site_id, audit_subject = _owner(unit, kind, code)
    revoked = 0
    for row in _active(unit, kind, subject_id, site_id):
        row.revoked_at, row.revoked_by = unit.now, unit.actor
        unit.session.add(row)
        unit.audit(
            "feed_token.revoke",
            entity="feedtoken",
            entity_id=row.id,
            subject_id=audit_subject,
            old={"kind": kind, "owner": code},
            reason=reason,
        )
        revoked += 1
    return revoked


def issue_feed(
    unit: Unit, settings: Settings, kind: str, code: str, *, reason: str = ""
) -> IssuedToken:
    """A new secret URL for the feed; any earlier URL of the same feed is revoked (rotation),
    because a URL cannot be shown twice (only its hash is kept)."""
    subject_id, site_id, audit_subject = _owner(unit, kind, code)
    replaced = revoke_feed(unit, kind, code, reason=reason or "rotated")
    token = secrets.token_urlsafe(32)
    row = FeedToken(
        token_hash=hash_token(token),
        kind=kind,
        subject_id=subject_id,
        site_id=site_id,
        created_at=unit.now,
        created_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "feed_token.rotate" if replaced else "feed_token.issue",
        entity="feedtoken",
        entity_id=row.id,
        subject_id=audit_subject,
        new={"kind": kind, "owner": code},
        reason=reason,
    )
    https, webcal = feed_urls(settings, token)
    return IssuedToken(token=token, https=https, webcal=webcal)


def live_patient_token(session: Session, code: str, token: str) -> bool:
    """Whether ``token`` is the subject's live patient feed token (compared in constant time)."""
    subject = get_subject(session, code)
    digest = hash_token(token)
    query = select(FeedToken).where(
        FeedToken.kind == PATIENT,
        FeedToken.subject_id == subject.id,
        col(FeedToken.revoked_at).is_(None),
    )
    return any(hmac.compare_digest(row.token_hash, digest) for row in session.exec(query))


def token_status(session: Session, kind: str, code: str) -> dict[str, object]:
    """What can be said about a feed's URL without the token: whether one is live, since when."""
    if kind == PATIENT:
        subject = get_subject(session, code)
        query = select(FeedToken).where(FeedToken.kind == kind, FeedToken.subject_id == subject.id)
    else:
        site = get_site(session, code)
        query = select(FeedToken).where(FeedToken.kind == kind, FeedToken.site_id == site.id)
    rows = list(session.exec(query.order_by(col(FeedToken.created_at))))
    live = [r for r in rows if r.revoked_at is None]
    return {
        "live": bool(live),
        "issued_at": live[-1].created_at if live else None,
        "issued_by": live[-1].created_by if live else None,
        "revoked": len(rows) - len(live),
    }
