"""Staff accounts: creation, sites, password checks, login sessions, API tokens, deactivation.

Passwords are hashed with argon2 (argon2-cffi's defaults, RFC 9106 low-memory profile). Session
and API tokens are 256-bit random strings handed out once; only their SHA-256 digests are kept,
which is enough for values that cannot be guessed and keeps lookups a single indexed query. API
tokens expire (``TOKEN_LIFETIME`` unless issued for fewer days) and remember their last use.

An account with sites (``StaffSite``) works only at those sites: every unit of work acting for
it is bound to them (``kernel.sites``). An account without sites is study-wide.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, func, select

from scheduler.errors import Conflict, InputError, NotFound
from scheduler.kernel.actors import has_staff
from scheduler.kernel.sites import get_site
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_language, check_text
from scheduler.models import ROLES, ApiToken, Site, StaffSession, StaffSite, StaffUser
from scheduler.settings import get_settings
from scheduler.staff.throttle import locked_until

SESSION_LIFETIME = timedelta(hours=12)
"""A clinic shift: after that the browser logs in again."""
TOKEN_LIFETIME_DAYS = 90
MAX_TOKEN_LIFETIME_DAYS = 365
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written at most once a minute per token, not at every call."""
MIN_PASSWORD_LENGTH = 10
USER_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
_NAME = re.compile(USER_NAME_PATTERN)
_HASHER = (
    PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # DOSING_PASSWORD_HASH_COST
    if get_settings().password_hash_cost == "minimal"
    else PasswordHasher()
)
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class Staff:
    """Who is acting: what requests and the audit trail need to know about a staff user."""

    id: int
    name: str
    role: str
    sites: tuple[str, ...] = ()
    """Codes of the sites the account works at; empty for a study-wide account."""
    language: str = "en"
    """The language its pages are shown in."""
    site_ids: frozenset[int] = frozenset()
    """Ids of those sites: what a unit of work acting for the account is bound to, known
    before its transaction begins (``kernel.sites``)."""


@dataclass(frozen=True)
class StaffAccount:
    """An account as the admin sees it in the list."""

    name: str
    role: str
    active: bool
    created_at: datetime
    created_by: str
    sites: tuple[str, ...]
    locked_until: datetime | None
    """The end of a lockout after too many failed logins, or None."""
    language: str = "en"


@dataclass(frozen=True)
class LoginSession:
    token: str
    csrf_token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _sites_of(session: Session, staff_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    rows = session.exec(
        select(StaffSite.staff_id, Site.code)
        .join(Site, col(Site.id) == StaffSite.site_id)
        .where(col(StaffSite.staff_id).in_(staff_ids))
        .order_by(col(Site.code))
    ).all()
    found: dict[int, tuple[str, ...]] = {}
    for staff_id, code in rows:
        found[staff_id] = (*found.get(staff_id, ()), code)
    return found


def _staff(session: Session, row: StaffUser) -> Staff:
    sites = session.exec(
        select(Site.id, Site.code)
        .join(StaffSite, col(StaffSite.site_id) == Site.id)
        .where(StaffSite.staff_id == row.id)
        .order_by(col(Site.code))
    ).all()
    return _account(row, sites)


def _account(row: StaffUser, sites: Sequence[tuple[int | None, str | None]]) -> Staff:
    """The account of ``row`` working at ``sites`` (id, code), in code order; rows of an outer
    join to no site at all are (None, None)."""
    return Staff(
        id=row.id or 0,
        name=row.name,
        role=row.role,
        sites=tuple(code for site_id, code in sites if site_id is not None and code is not None),
        language=row.language,
        site_ids=frozenset(site_id for site_id, _ in sites if site_id is not None),
    )


# What every request asks first: its credential (bound as ``digest``), the account and the
# account's sites, one row a site (one row with no site for a study-wide account), in one
# statement built once.
_TOKEN_ACCOUNT = (
    select(ApiToken, StaffUser, Site.id, Site.code)
    .join(StaffUser, col(StaffUser.id) == ApiToken.staff_id)
    .outerjoin(StaffSite, col(StaffSite.staff_id) == StaffUser.id)
    .outerjoin(Site, col(Site.id) == StaffSite.site_id)
    .where(ApiToken.token_sha256 == bindparam("digest"))
    .order_by(col(Site.code))
)
_SESSION_ACCOUNT = (
    select(StaffSession, StaffUser, Site.id, Site.code)
    .join(StaffUser, col(StaffUser.id) == StaffSession.staff_id)
    .outerjoin(StaffSite, col(StaffSite.staff_id) == StaffUser.id)
    .outerjoin(Site, col(Site.id) == StaffSite.site_id)
    .where(StaffSession.token_sha256 == bindparam("digest"))
    .order_by(col(Site.code))
)


def _check_sites(session: Session, codes: Sequence[str]) -> list[Site]:
    """The sites named, each once, in the order given; a site the acting account cannot see
    is unknown to it (NotFound), so nobody grants access beyond their own."""
    sites: dict[str, Site] = {}
    for code in codes:
        site = get_site(session, code.strip())
        sites.setdefault(site.code, site)
    return list(sites.values())


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError("role", f"{role!r} is not a role ({', '.join(ROLES)})")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            "password", f"is {len(password)} characters; at least {MIN_PASSWORD_LENGTH} needed"
        )
    if len(password) > 1024:
        raise InputError("password", "is longer than 1024 characters")
    return password


def get_staff_user(session: Session, name: str) -> StaffUser:
    row = session.exec(select(StaffUser).where(StaffUser.name == name)).first()
    if row is None:
        raise NotFound("name", f"no staff user {name!r}")
    return row


def create_staff(
    unit: Unit,
    name: str,
    *,
    role: str,
    password: str,
    sites: Sequence[str] = (),
    language: str = "en",
) -> Staff:
    """A new account; ``sites`` are the codes of the sites it works at (none: study-wide),
    ``language`` the language of its pages."""
    if not _NAME.fullmatch(name):
        raise InputError(
            "name",
            f"{name!r} is not a user name (1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit)",
        )
    check_role(role)
    language = check_language(language)
    check_password(password)
    chosen = _check_sites(unit.session, sites)
    if unit.session.exec(select(StaffUser).where(StaffUser.name == name)).first() is not None:
        raise Conflict("name", f"staff user {name!r} already exists")
    row = StaffUser(
        name=name,
        role=role,
        language=language,
        password_hash=_HASHER.hash(password),
        active=True,
        created_at=unit.now,
        created_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    for site in chosen:
        unit.session.add(StaffSite(staff_id=row.id or 0, site_id=site.id or 0))
    unit.session.flush()
    unit.audit(
        "staff.create",
        entity="staff",
        entity_id=row.id,
        new={
            "name": name,
            "role": role,
            "sites": [s.code for s in chosen],
            "language": language,
        },
    )
    return _staff(unit.session, row)


def create_first_admin(
    unit: Unit, name: str, *, password: str, sites: Sequence[str] = (), language: str = "en"
) -> Staff:
    """The first account of a database that has none: an admin, created by the operator who
    set the database up and recorded as created by itself (``unit.actor`` is ``name``). Once
    any account exists, accounts are added by an admin acting as themselves."""
    if has_staff(unit.session):
        raise Conflict(
            "user", "staff accounts exist already: add accounts as an admin (--user NAME)"
        )
    return create_staff(unit, name, role="admin", password=password, sites=sites, language=language)


def set_sites(unit: Unit, name: str, sites: Sequence[str], *, reason: str) -> Staff:
    """Replace the sites ``name`` works at (none: study-wide). Takes effect at the account's
    next request: each reads them afresh with its token or login session, and each CLI unit of
    work in its transaction."""
    reason = check_text("reason", reason, required=True)
    row = get_staff_user(unit.session, name)
    chosen = _check_sites(unit.session, sites)
    before = _sites_of(unit.session, [row.id or 0]).get(row.id or 0, ())
    after = tuple(sorted(s.code for s in chosen))
    if before == after:
        raise Conflict("site", f"staff user {name!r} already works at {_describe(after)}")
    unit.session.exec(delete(StaffSite).where(col(StaffSite.staff_id) == row.id))
    for site in chosen:
        unit.session.add(StaffSite(staff_id=row.id or 0, site_id=site.id or 0))
    unit.session.flush()
    unit.audit(
        "staff.sites",
        entity="staff",
        entity_id=row.id,
        old={"sites": list(before)},
        new={"sites": list(after)},
        reason=reason,
    )
    return _staff(unit.session, row)


def set_language(unit: Unit, name: str, language: str, *, reason: str = "") -> Staff:
    """Set the language of ``name``'s pages, from its next page on. Changing one's own needs no
    reason (it is a preference); an admin changing another account's gives one, as for every
    other change made to someone else's account. The same language again is refused."""
    own = name == unit.actor
    reason = check_text("reason", reason, required=not own)
    chosen = check_language(language)
    row = get_staff_user(unit.session, name)
    if row.language == chosen:
        raise Conflict("language", f"staff user {name!r} already reads {chosen}")
    old, row.language = row.language, chosen
    unit.session.add(row)
    unit.audit(
        "staff.language",
        entity="staff",
        entity_id=row.id,
        old={"language": old},
        new={"language": chosen},
        reason=reason,
    )
    return _staff(unit.session, row)


def _describe(sites: Sequence[str]) -> str:
    return ", ".join(sites) if sites else "every site (study-wide)"


def verify_password(session: Session, name: str, password: str) -> Staff | None:
    """The active staff user with this name and password, or None. An unknown name costs as
    much as a wrong password, so response times do not reveal which names exist."""
    row = None
    if _NAME.fullmatch(name):
        row = session.exec(select(StaffUser).where(StaffUser.name == name)).first()
    try:
        _HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.active:
        return None
    return _staff(session, row)


def _active_admins(session: Session) -> int:
    query = select(func.count(col(StaffUser.id))).where(
        StaffUser.role == "admin", col(StaffUser.active).is_(True)
    )
    return int(session.exec(query).one())


def _deactivatable(session: Session, actor: str, name: str) -> StaffUser:
    row = get_staff_user(session, name)
    if not row.active:
        raise Conflict("name", f"staff user {name!r} is already deactivated")
    if row.name == actor:
        raise Conflict("name", "you cannot deactivate your own account; ask another admin")
    if row.role == "admin" and _active_admins(session) <= 1:
        raise Conflict("name", f"{name!r} is the last active admin; add another admin first")
    return row


@dataclass(frozen=True)
class DeactivationPreview:
    """What deactivating an account would end, for the page that asks to confirm it."""

    name: str
    role: str
    sessions: int
    tokens: int


def preview_deactivation(
    session: Session, actor: str, name: str, now: datetime
) -> DeactivationPreview:
    """What ``deactivate`` would end; raises what it would raise."""
    row = _deactivatable(session, actor, name)
    sessions = session.exec(
        select(func.count()).where(
            StaffSession.staff_id == row.id, col(StaffSession.expires_at) > now
        )
    ).one()
    tokens = session.exec(
        select(func.count()).where(
            ApiToken.staff_id == row.id,
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.expires_at) > now,
        )
    ).one()
    return DeactivationPreview(row.name, row.role, int(sessions), int(tokens))


def deactivate(unit: Unit, name: str, *, reason: str) -> Staff:
    """Lock an account out: its sessions end and its API tokens are revoked at once. Nobody
    deactivates their own account, and the last active admin stays: either would leave the
    study with no one to manage its accounts (``reactivate`` undoes a deactivation)."""
    reason = check_text("reason", reason, required=True)
    row = _deactivatable(unit.session, unit.actor, name)
    row.active = False
    unit.session.add(row)
    unit.session.exec(delete(StaffSession).where(col(StaffSession.staff_id) == row.id))
    for token in unit.session.exec(
        select(ApiToken).where(ApiToken.staff_id == row.id, col(ApiToken.revoked_at).is_(None))
    ):
        token.revoked_at = unit.now
        unit.session.add(token)
    unit.audit(
        "staff.deactivate",
        entity="staff",
        entity_id=row.id,
        old={"active": True},
        new={"active": False},
        reason=reason,
    )
    return _staff(unit.session, row)


def reactivate(unit: Unit, name: str, *, reason: str) -> Staff:
    """Let a deactivated account log in again (with its old password; its old sessions and API
    tokens stay ended)."""
    reason = check_text("reason", reason, required=True)
    row = get_staff_user(unit.session, name)
    if row.active:
        raise Conflict("name", f"staff user {name!r} is active")
    row.active = True
    unit.session.add(row)
    unit.audit(
        "staff.reactivate",
        entity="staff",
        entity_id=row.id,
        old={"active": False},
        new={"active": True},
        reason=reason,
    )
    return _staff(unit.session, row)


def list_staff(session: Session, now: datetime, name: str | None = None) -> list[StaffAccount]:
    """Every account by name (or only ``name``), with its sites and any lockout in force at
    ``now``."""
    query = select(StaffUser).order_by(col(StaffUser.name))
    if name is not None:
        query = query.where(StaffUser.name == get_staff_user(session, name).name)
    rows = list(session.exec(query).all())
    sites = _sites_of(session, [row.id or 0 for row in rows])
    locks = locked_until(session, now)
    return [
        StaffAccount(
            name=row.name,
            role=row.role,
            active=row.active,
            created_at=row.created_at,
            created_by=row.created_by,
            sites=sites.get(row.id or 0, ()),
            locked_until=locks.get(row.name),
            language=row.language,
        )
        for row in rows
    ]


def start_session(unit: Unit, staff: Staff) -> LoginSession:
    """A new login for ``staff`` (already verified); the token goes into the cookie."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = unit.now + SESSION_LIFETIME
    unit.session.add(
        StaffSession(
            token_sha256=_digest(token),
            staff_id=staff.id,
            csrf_token=csrf,
            created_at=unit.now,
            expires_at=expires,
        )
    )
    unit.session.exec(
        delete(StaffSession).where(
            col(StaffSession.staff_id) == staff.id, col(StaffSession.expires_at) < unit.now
        )
    )
    unit.audit("staff.login", entity="staff", entity_id=staff.id)
    return LoginSession(token=token, csrf_token=csrf, expires_at=expires)


def session_staff(session: Session, token: str, now: datetime) -> tuple[Staff, str] | None:
    """The staff user and CSRF token of a live login session, or None."""
    rows = session.exec(_SESSION_ACCOUNT, params={"digest": _digest(token)}).all()
    if not rows:
        return None
    login, user = rows[0][0], rows[0][1]
    if login.expires_at <= now or not user.active:
        return None
    return _account(user, [(site_id, code) for _, _, site_id, code in rows]), login.csrf_token


def session_started_at(session: Session, token: str) -> datetime | None:
    """When the login session of ``token`` began (None for no such session)."""
    found = session.exec(
        select(StaffSession.created_at).where(StaffSession.token_sha256 == _digest(token))
    ).first()
    return found


def end_session(unit: Unit, token: str) -> None:
    unit.session.exec(delete(StaffSession).where(col(StaffSession.token_sha256) == _digest(token)))
    unit.audit("staff.logout", entity="staff", entity_id=None)


def check_token_days(days: int) -> int:
    if not 1 <= days <= MAX_TOKEN_LIFETIME_DAYS:
        raise InputError("days", f"is {days}; a token lasts 1 to {MAX_TOKEN_LIFETIME_DAYS} days")
    return days


def issue_api_token(
    unit: Unit, name: str, *, label: str = "", days: int = TOKEN_LIFETIME_DAYS
) -> str:
    """A new bearer token for ``name``, valid for ``days``; returned once, stored only as a
    digest."""
    row = get_staff_user(unit.session, name)
    if not row.active:
        raise Conflict("name", f"staff user {name!r} is deactivated")
    label = check_text("label", label, required=False, limit=100)
    check_token_days(days)
    token = secrets.token_urlsafe(32)
    api_token = ApiToken(
        token_sha256=_digest(token),
        staff_id=row.id or 0,
        label=label,
        created_at=unit.now,
        expires_at=unit.now + timedelta(days=days),
    )
    unit.session.add(api_token)
    unit.session.flush()
    unit.audit(
        "staff.token_issue",
        entity="api_token",
        entity_id=api_token.id,
        new={"staff": name, "label": label, "expires_at": api_token.expires_at},
    )
    return token


def list_tokens(session: Session, name: str) -> list[ApiToken]:
    """Every API token of ``name``, live or not, oldest first (never the token itself)."""
    row = get_staff_user(session, name)
    query = select(ApiToken).where(ApiToken.staff_id == row.id).order_by(col(ApiToken.id))
    return list(session.exec(query).all())


def revoke_api_token(unit: Unit, name: str, token_id: int, *, reason: str) -> ApiToken:
    """Revoke one token of ``name``: it stops working at once, the others go on."""
    reason = check_text("reason", reason, required=True)
    row = get_staff_user(unit.session, name)
    api_token = unit.session.get(ApiToken, token_id)
    if api_token is None or api_token.staff_id != row.id:
        raise NotFound("token", f"{name!r} has no API token {token_id}")
    if api_token.revoked_at is not None:
        raise Conflict("token", f"API token {token_id} of {name!r} is already revoked")
    api_token.revoked_at = unit.now
    unit.session.add(api_token)
    unit.audit(
        "staff.token_revoke",
        entity="api_token",
        entity_id=api_token.id,
        old={"staff": name, "label": api_token.label, "revoked_at": None},
        new={"revoked_at": unit.now},
        reason=reason,
    )
    return api_token


def token_staff(session: Session, token: str, now: datetime) -> Staff | None:
    """The active staff user a bearer token acts for, or None when unknown, revoked or expired.
    A use is noted in ``last_used_at`` (at most once a minute)."""
    rows = session.exec(_TOKEN_ACCOUNT, params={"digest": _digest(token)}).all()
    if not rows:
        return None
    api_token, user = rows[0][0], rows[0][1]
    if api_token.revoked_at is not None or api_token.expires_at <= now or not user.active:
        return None
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOKEN_USE_RESOLUTION:
        api_token.last_used_at = now
        session.add(api_token)
    return _account(user, [(site_id, code) for _, _, site_id, code in rows])
