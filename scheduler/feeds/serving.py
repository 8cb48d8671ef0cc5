"""Calendar feeds: event identities kept in step with plans, secret-URL tokens, and fetching.

A feed is derived again, and its identities (UID, SEQUENCE) synced, when its stored revision is
not known to be current: a record of one of its subjects changed since (each unit of work that
changes a subject's records bumps ``Subject.revision``; a site's staff feeds compare the sum over
its subjects, which grows with every change, since revisions only grow and subjects never move
between sites), or the local day moved on (a held dose drops out 30 days after it was held, an
open hold pushes the next cycle day by day). A feed's revision (the SHA-256 of its body, which is
the ETag, and the time the body last changed, which is Last-Modified) is stored, so a client
revalidating an unchanged feed costs one indexed lookup and no plan. Writes never touch the feed
rows: two writers on different subjects of one site do not queue for the site's feeds.

A token is ``secrets.token_urlsafe(32)`` (256 bits); only its SHA-256 is stored, so the URL
cannot be shown again: issuing a new one (rotation) revokes the old one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from threading import Lock
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, String, bindparam, case, cast, func
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

import calendars
from scheduler.appointments.booking import bookings_of
from scheduler.appointments.clinics import sites_with_clinic
from scheduler.appointments.day_list import site_appointments
from scheduler.clock import Clock, local_today
from scheduler.core.times import local_instant
from scheduler.db import transaction
from scheduler.errors import NotFound
from scheduler.feeds.identities import (
    _options_digest,
    feed_options,
    sync_identities,
)
from scheduler.feeds.tokens import (
    _BODIES_MAX,
    APPOINTMENTS,
    APPOINTMENTS_AHEAD_DAYS,
    APPOINTMENTS_PAST_DAYS,
    PATIENT,
    PHARMACY,
    PHARMACY_AHEAD_DAYS,
    PHARMACY_PAST_DAYS,
    FeedGone,
    hash_token,
)
from scheduler.kernel.subject_state import all_subjects, get_subject, states
from scheduler.models import FeedRevision, FeedToken, Site, Subject
from scheduler.pharmacy.accountability import new_capsule_days_of
from scheduler.pharmacy.preparation_list import preparation_list
from scheduler.settings import Settings


@dataclass(frozen=True)
class FeedBody:
    """A feed as served: ``body`` is None when a revalidation was answered from the revision."""

    feed: str
    digest: str
    revised_at: datetime
    body: bytes | None


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
    language = target.subject.language if target.subject is not None else "en"
    options = feed_options(settings, target.site, target.kind, language)
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
    elif target.kind == APPOINTMENTS:
        items = calendars.site_appointment_items(_appointments(session, target), options)
    else:
        fresh = states(session, subjects, now)
        plans = [s.plan() for s in fresh]
        if target.kind == PATIENT:
            subject_id = fresh[0].subject.id or 0
            collect = new_capsule_days_of(session, fresh)[subject_id]
            bookings = None
            if sites_with_clinic(session, [target.site.id or 0]):
                sites = {target.site.id or 0: target.site}
                bookings = bookings_of(session, [subject_id], sites).get(subject_id, {})
            items = calendars.patient_items(
                plans[0], options, new_capsules_on=collect, bookings=bookings
            )
        else:
            items = calendars.site_visit_items(plans, options)
    identities = sync_identities(session, target.kind, items, ids, now)
    body = calendars.render_feed(items, identities, options, target.today)
    return body, _options_digest(options)


def _appointments(session: Session, target: _Target) -> list[calendars.SiteAppointment]:
    """The site's appointments from a week ago to four months ahead, in the site's zone."""
    zone = ZoneInfo(target.site.time_zone)
    lines = site_appointments(
        session,
        target.site,
        target.today - timedelta(days=APPOINTMENTS_PAST_DAYS),
        target.today + timedelta(days=APPOINTMENTS_AHEAD_DAYS),
    )
    return [
        calendars.SiteAppointment(
            subject=line.subject,
            visit_code=line.visit_code,
            visit_name=line.visit_name,
            start=local_instant(line.day, line.start, zone).astimezone(zone),
            minutes=line.minutes,
            stale=line.stale,
        )
        for line in lines
    ]


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
_SITE_SUBJECT = aliased(Subject)
_SITE_REVISION = (
    core_select(func.coalesce(func.sum(_SITE_SUBJECT.revision), 0))
    .where(col(_SITE_SUBJECT.site_id) == col(FeedToken.site_id))
    .scalar_subquery()
)
_LOOKUP = (
    core_select(
        col(FeedToken.kind),
        col(FeedToken.subject_id),
        col(FeedToken.site_id),
        col(FeedToken.revoked_at),
        col(Subject.time_zone).label("subject_zone"),
        col(Subject.language).label("subject_language"),
        *(column.label(f"site__{column.name}") for column in _SITE_COLUMNS),
        col(FeedRevision.digest),
        col(FeedRevision.revised_at),
        col(FeedRevision.valid_on),
        col(FeedRevision.options_digest),
        col(FeedRevision.source_revision),
        case((col(FeedToken.kind) == PATIENT, col(Subject.revision)), else_=_SITE_REVISION).label(
            "current_revision"
        ),
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
"""A token with its subject's zone, its site, its feed's revision and the current revision of
the feed's subjects: one query, built once (a revalidation is this query alone; building the
statement cost more than running it)."""


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
    options = feed_options(settings, site, row.kind, row.subject_language or "en")
    if (
        row.digest is not None
        and row.source_revision == row.current_revision
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
        # Read before the records: a change committed meanwhile leaves the stored source behind
        # what the body shows, which costs one more derivation, never a stale body.
        source = _source_revision(session, owner)
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
        revision.source_revision = source
        session.add(revision)
    _bodies.put(target.feed, digest, body)
    return FeedBody(target.feed, digest, revision.revised_at, body)


def _source_revision(session: Session, owner: _Owner) -> int:
    if owner.kind == PATIENT:
        query = select(Subject.revision).where(Subject.id == owner.subject_id)
    else:
        query = select(func.coalesce(func.sum(Subject.revision), 0)).where(
            Subject.site_id == owner.site_id
        )
    return int(session.exec(query).one())


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
