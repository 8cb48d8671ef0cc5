"""Calendar feeds: event identities kept in step with plans, secret-URL tokens, and fetching.

Identities (UID, SEQUENCE, revision) are created or bumped by ``refresh_feeds`` in the same
transaction as the record that changed the plan; time alone also changes feeds (a held dose
drops out 30 days after it was held, an open hold pushes the next cycle day by day), so a fetch
re-derives a feed whenever its stored revision is not known to be current for today, and writes
only what changed. A feed's revision (the SHA-256 of its body, which is the ETag, and the time
the body last changed, which is Last-Modified) is stored, so a client revalidating an unchanged
feed costs one indexed lookup and no plan.

A token is ``secrets.token_urlsafe(32)`` (256 bits); only its SHA-256 is stored, so the URL
cannot be shown again: issuing a new one (rotation) revokes the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from threading import Lock

from sqlalchemy import Engine, String, bindparam, cast, func
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

import calendars
from scheduler.clock import Clock, local_today
from scheduler.db import transaction
from scheduler.errors import InputError, NotFound
from scheduler.models import FeedItemIdentity, FeedRevision, FeedToken, Site, Subject
from scheduler.services.pharmacy import preparation_list
from scheduler.services.sites import get_site
from scheduler.services.subjects import SubjectState, all_subjects, get_subject, states
from scheduler.services.unit import Unit
from scheduler.settings import Settings

PATIENT = "patient"
SITE_VISITS = "site_visits"
PHARMACY = "pharmacy"
STAFF_KINDS = (SITE_VISITS, PHARMACY)
PHARMACY_PAST_DAYS = 30
PHARMACY_AHEAD_DAYS = 400
_BODIES_MAX = 4096


class FeedGone(NotFound):
    """The token existed and was revoked or rotated: HTTP 410, so clients stop polling."""


@dataclass(frozen=True)
class FeedBody:
    """A feed as served: ``body`` is None when a revalidation was answered from the revision."""

    feed: str
    digest: str
    revised_at: datetime
    body: bytes | None


@dataclass(frozen=True)
class IssuedToken:
    token: str
    https: str
    webcal: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def feed_urls(settings: Settings, token: str) -> tuple[str, str]:
    """The https (or http, for a local base) and webcal:// forms of a feed URL."""
    base = settings.public_base_url.rstrip("/")
    url = f"{base}/feeds/{token}.ics"
    return url, "webcal://" + url.split("://", 1)[1]


_STAFF_NAMES = {SITE_VISITS: "study visits", PHARMACY: "pharmacy preparation"}


def feed_options(settings: Settings, site: Site, kind: str = PATIENT) -> calendars.FeedOptions:
    """Options of one feed: staff feeds are named after the site and what they list."""
    name = settings.feed_calendar_name
    if kind in _STAFF_NAMES:
        name = f"{site.code} {_STAFF_NAMES[kind]}"
    return calendars.FeedOptions(
        calendar_name=name,
        show_drug_name=settings.feed_show_drug_name,
        site_address=site.address or settings.default_site_address,
        clinic_phone=site.phone or settings.clinic_phone,
    )


def _options_digest(options: calendars.FeedOptions) -> str:
    """Changes when the options or the renderer's output format do, forcing a fresh render."""
    return hashlib.sha256(f"{calendars.RENDER_FORMAT}:{options!r}".encode()).hexdigest()


# -- identities -----------------------------------------------------------------------------


def _identity_rows(
    session: Session, kind: str, subject_ids: dict[str, int]
) -> dict[calendars.ItemKey, FeedItemIdentity]:
    codes = {v: k for k, v in subject_ids.items()}
    if not codes:
        return {}
    query = select(FeedItemIdentity).where(
        FeedItemIdentity.kind == kind, col(FeedItemIdentity.subject_id).in_(sorted(codes))
    )
    return {(codes[row.subject_id], row.key): row for row in session.exec(query)}


def _identity(row: FeedItemIdentity) -> calendars.Identity:
    return calendars.Identity(
        uid=row.uid, sequence=row.sequence, fingerprint=row.fingerprint, revised=row.revised_at
    )


def stored_identities(
    session: Session, kind: str, subject_ids: dict[str, int]
) -> dict[calendars.ItemKey, calendars.Identity]:
    """The identities feeds have already published for these subjects, keyed by item."""
    rows = _identity_rows(session, kind, subject_ids)
    return {key: _identity(row) for key, row in rows.items()}


def sync_identities(
    session: Session,
    kind: str,
    items: Sequence[calendars.FeedItem],
    subject_ids: dict[str, int],
    now: datetime,
) -> dict[calendars.ItemKey, calendars.Identity]:
    """Stored identities for ``items``, creating and bumping rows as ``assign_identities`` says."""
    rows = _identity_rows(session, kind, subject_ids)
    stored = {key: _identity(row) for key, row in rows.items()}
    assigned = calendars.assign_identities(items, stored, now)
    for key, identity in assigned.items():
        old = stored.get(key)
        if old is identity:
            continue
        existing = rows.get(key)
        if existing is None:
            row = FeedItemIdentity(
                kind=kind,
                subject_id=subject_ids[key[0]],
                key=key[1],
                uid=identity.uid,
                sequence=identity.sequence,
                fingerprint=identity.fingerprint,
                revised_at=identity.revised,
            )
        else:
            row = existing
            row.sequence = identity.sequence
            row.fingerprint = identity.fingerprint
            row.revised_at = identity.revised
        session.add(row)
    return assigned


def _mark_stale(session: Session, feeds: set[str]) -> None:
    for row in session.exec(select(FeedRevision).where(col(FeedRevision.feed).in_(feeds))):
        row.stale = True
        session.add(row)


def refresh_feeds(unit: Unit, fresh: Sequence[SubjectState]) -> None:
    """The derived-rows refresher: identities of the changed subjects' patient and site visit
    events move with the record that moved them, and their feeds' revisions are marked stale."""
    settings = unit.settings
    feeds: set[str] = set()
    for state in fresh:
        subject_id = state.subject.id or 0
        plan = state.plan()
        ids = {state.subject.code: subject_id}
        options = feed_options(settings, state.site)
        sync_identities(
            unit.session, PATIENT, calendars.patient_items(plan, options), ids, unit.now
        )
        staff = feed_options(settings, state.site, SITE_VISITS)
        sync_identities(
            unit.session, SITE_VISITS, calendars.site_visit_items([plan], staff), ids, unit.now
        )
        feeds.update(
            {
                f"{PATIENT}:{subject_id}",
                f"{SITE_VISITS}:{state.site.id}",
                f"{PHARMACY}:{state.site.id}",
            }
        )
    _mark_stale(unit.session, feeds)


# -- rendering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    kind: str
    feed: str
    site: Site
    subject: Subject | None
    today: date


def _render(
    session: Session, target: _Target, settings: Settings, now: datetime
) -> tuple[bytes, str]:
    """The feed's body after syncing its identities, and the digest of the options used."""
    options = feed_options(settings, target.site, target.kind)
    if target.kind == PATIENT:
        assert target.subject is not None
        subjects = [target.subject]
    else:
        subjects = all_subjects(session, target.site.code)
    ids = {s.code: s.id or 0 for s in subjects}
    if target.kind == PHARMACY:
        rows = preparation_list(
            session,
            now,
            site_code=target.site.code,
            start=target.today - timedelta(days=PHARMACY_PAST_DAYS),
            end=target.today + timedelta(days=PHARMACY_AHEAD_DAYS),
            holidays={k: v for k, v in settings.site_holidays.items()},
        ).rows
        preparations = [
            calendars.Preparation(
                subject=row.subject,
                cycle=row.cycle,
                day1=row.day1,
                prepare_by=row.prepare_by,
                dose_mg=row.dose_mg,
                capsules=", ".join(
                    f"{line.count} x {line.strength_mg:g} mg" for line in row.capsules
                ),
                cancelled=row.status == "do not prepare",
                status=row.status,
            )
            for row in rows
        ]
        items = calendars.pharmacy_items(preparations, options)
    else:
        plans = [s.plan() for s in states(session, subjects, now)]
        if target.kind == PATIENT:
            items = calendars.patient_items(plans[0], options)
        else:
            items = calendars.site_visit_items(plans, options)
    identities = sync_identities(session, target.kind, items, ids, now)
    body = calendars.render_feed(items, identities, options, target.today)
    return body, _options_digest(options)


class _Bodies:
    """Bodies last served, by feed: a fresh revision with the same digest serves them as is."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._bodies: dict[str, tuple[str, bytes]] = {}

    def get(self, feed: str, digest: str) -> bytes | None:
        found = self._bodies.get(feed)
        return found[1] if found is not None and found[0] == digest else None

    def put(self, feed: str, digest: str, body: bytes) -> None:
        with self._lock:
            if len(self._bodies) >= _BODIES_MAX:
                self._bodies.clear()
            self._bodies[feed] = (digest, body)


_bodies = _Bodies()


def _feed_key(kind: str, subject_id: int | None, site_id: int | None) -> str:
    return f"{PATIENT}:{subject_id}" if kind == PATIENT else f"{kind}:{site_id}"


@dataclass(frozen=True)
class _Owner:
    """What a token opens: its feed kind and its subject (patient) or site (staff)."""

    kind: str
    subject_id: int | None
    site_id: int | None


def _target(session: Session, token: _Owner, now: datetime) -> _Target:
    subject = session.get(Subject, token.subject_id) if token.kind == PATIENT else None
    site = session.get(Site, subject.site_id if subject is not None else token.site_id)
    if site is None or (token.kind == PATIENT and subject is None):
        raise NotFound("token", "unknown feed")
    zone = subject.time_zone if subject is not None else site.time_zone
    feed = _feed_key(token.kind, token.subject_id, site.id)
    return _Target(token.kind, feed, site, subject, local_today(now, zone))


_SITE_COLUMNS = tuple(Site.__table__.columns)  # type: ignore[attr-defined]
_LOOKUP = (
    core_select(
        col(FeedToken.kind),
        col(FeedToken.subject_id),
        col(FeedToken.site_id),
        col(FeedToken.revoked_at),
        col(Subject.time_zone).label("subject_zone"),
        *(column.label(f"site__{column.name}") for column in _SITE_COLUMNS),
        col(FeedRevision.digest),
        col(FeedRevision.revised_at),
        col(FeedRevision.valid_on),
        col(FeedRevision.options_digest),
        col(FeedRevision.stale),
    )
    .select_from(FeedToken)
    .outerjoin(Subject, col(Subject.id) == FeedToken.subject_id)
    .outerjoin(Site, col(Site.id) == func.coalesce(Subject.site_id, FeedToken.site_id))
    .outerjoin(
        FeedRevision,
        col(FeedRevision.feed)
        == col(FeedToken.kind)
        + ":"
        + cast(func.coalesce(FeedToken.subject_id, FeedToken.site_id), String),
    )
    .where(col(FeedToken.token_hash) == bindparam("token_hash"))
)
"""A token with its subject's zone, its site and its feed's revision: one query, built once
(a revalidation is this query alone; building the statement cost more than running it)."""


def fetch_feed(
    engine: Engine,
    token: str,
    clock: Clock,
    settings: Settings,
    *,
    unchanged: Callable[[str, datetime], bool] | None = None,
) -> FeedBody:
    """The feed behind ``token``. When its stored revision is current for today and either
    the body is cached in this process or ``unchanged(digest, revised_at)`` says the client
    already has it (a revalidation), no plan is derived and ``body`` may be None.

    One query on the token's hash whether the token exists or not, so an unknown token
    (NotFound, 404) and a revoked one (FeedGone, 410) cost the same: the hash of a guess never
    matches a stored hash by chance. Raises NotFound or FeedGone."""
    now = clock.now()
    with engine.connect() as connection:
        row = connection.execute(_LOOKUP, {"token_hash": hash_token(token)}).first()
    if row is None:
        raise NotFound("token", "unknown feed")
    if row.revoked_at is not None:
        raise FeedGone("token", "this feed URL was revoked")
    owner = _Owner(row.kind, row.subject_id, row.site_id)
    site = Site(**{column.name: row._mapping[f"site__{column.name}"] for column in _SITE_COLUMNS})
    if site.id is None or (row.kind == PATIENT and row.subject_zone is None):
        raise NotFound("token", "unknown feed")
    feed = _feed_key(row.kind, row.subject_id, site.id)
    today = local_today(now, row.subject_zone if row.kind == PATIENT else site.time_zone)
    options = feed_options(settings, site, row.kind)
    if (
        row.digest is not None
        and not row.stale
        and row.valid_on == today
        and row.options_digest == _options_digest(options)
    ):
        body = _bodies.get(feed, row.digest)
        if body is not None or (unchanged is not None and unchanged(row.digest, row.revised_at)):
            return FeedBody(feed, row.digest, row.revised_at, body)
    try:
        return _rebuild(engine, owner, now, settings)
    except IntegrityError:
        # Two fetches created the same identities at once: the other one won; read its rows.
        return _rebuild(engine, owner, now, settings)


def _rebuild(engine: Engine, owner: _Owner, now: datetime, settings: Settings) -> FeedBody:
    with transaction(engine) as session:
        target = _target(session, owner, now)
        body, options_digest = _render(session, target, settings, now)
        digest = hashlib.sha256(body).hexdigest()
        revision = session.exec(
            select(FeedRevision).where(FeedRevision.feed == target.feed)
        ).first()
        if revision is None:
            revision = FeedRevision(feed=target.feed, digest=digest, revised_at=now)
        elif revision.digest != digest:
            revision.digest, revision.revised_at = digest, now
        revision.valid_on = target.today
        revision.options_digest = options_digest
        revision.stale = False
        session.add(revision)
    _bodies.put(target.feed, digest, body)
    return FeedBody(target.feed, digest, revision.revised_at, body)


def subject_calendar(engine: Engine, code: str, clock: Clock, settings: Settings) -> bytes:
    """One subject's patient feed, for a file (``dosing ics``); no token needed."""
    now = clock.now()
    with transaction(engine) as session:
        subject = get_subject(session, code)
        site = session.get(Site, subject.site_id)
        assert site is not None
        target = _Target(
            PATIENT, f"{PATIENT}:{subject.id}", site, subject, local_today(now, subject.time_zone)
        )
        body, _ = _render(session, target, settings, now)
    return body


# -- tokens ---------------------------------------------------------------------------------


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
