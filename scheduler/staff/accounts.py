"""Staff accounts: creation, password checks, login sessions, API tokens, deactivation.

Passwords are hashed with argon2 (argon2-cffi's defaults, RFC 9106 low-memory profile). Session
and API tokens are 256-bit random strings handed out once; only their SHA-256 digests are kept,
which is enough for values that cannot be guessed and keeps lookups a single indexed query.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, select

from scheduler.errors import Conflict, InputError, NotFound
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text
from scheduler.models import ROLES, ApiToken, StaffSession, StaffUser
from scheduler.settings import get_settings

SESSION_LIFETIME = timedelta(hours=12)
"""A clinic shift: after that the browser logs in again."""
MIN_PASSWORD_LENGTH = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
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


@dataclass(frozen=True)
class LoginSession:
    token: str
    csrf_token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _staff(row: StaffUser) -> Staff:
    return Staff(id=row.id or 0, name=row.name, role=row.role)


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


def create_staff(unit: Unit, name: str, *, role: str, password: str) -> Staff:
    if not _NAME.fullmatch(name):
        raise InputError(
            "name",
            f"{name!r} is not a user name (1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit)",
        )
    check_role(role)
    check_password(password)
    if unit.session.exec(select(StaffUser).where(StaffUser.name == name)).first() is not None:
        raise Conflict("name", f"staff user {name!r} already exists")
    row = StaffUser(
        name=name,
        role=role,
        password_hash=_HASHER.hash(password),
        active=True,
        created_at=unit.now,
        created_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit("staff.create", entity="staff", entity_id=row.id, new={"name": name, "role": role})
    return _staff(row)


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
    return _staff(row)


def deactivate(unit: Unit, name: str, *, reason: str) -> Staff:
    """Lock an account out: its sessions end and its API tokens are revoked at once."""
    reason = check_text("reason", reason, required=True)
    row = get_staff_user(unit.session, name)
    if not row.active:
        raise Conflict("name", f"staff user {name!r} is already deactivated")
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
    return _staff(row)


def list_staff(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).order_by(col(StaffUser.name))).all())


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
    found = session.exec(
        select(StaffSession, StaffUser)
        .join(StaffUser, col(StaffUser.id) == StaffSession.staff_id)
        .where(StaffSession.token_sha256 == _digest(token))
    ).first()
    if found is None:
        return None
    login, user = found
    if login.expires_at <= now or not user.active:
        return None
    return _staff(user), login.csrf_token


def end_session(unit: Unit, token: str) -> None:
    unit.session.exec(delete(StaffSession).where(col(StaffSession.token_sha256) == _digest(token)))
    unit.audit("staff.logout", entity="staff", entity_id=None)


def issue_api_token(unit: Unit, name: str, *, label: str = "") -> str:
    """A new bearer token for ``name``; returned once, stored only as a digest."""
    row = get_staff_user(unit.session, name)
    if not row.active:
        raise Conflict("name", f"staff user {name!r} is deactivated")
    label = check_text("label", label, required=False, limit=100)
    token = secrets.token_urlsafe(32)
    api_token = ApiToken(
        token_sha256=_digest(token), staff_id=row.id or 0, label=label, created_at=unit.now
    )
    unit.session.add(api_token)
    unit.session.flush()
    unit.audit(
        "staff.token_issue",
        entity="api_token",
        entity_id=api_token.id,
        new={"staff": name, "label": label},
    )
    return token


def token_staff(session: Session, token: str) -> Staff | None:
    """The active staff user a bearer token acts for, or None when unknown or revoked."""
    found = session.exec(
        select(ApiToken, StaffUser)
        .join(StaffUser, col(StaffUser.id) == ApiToken.staff_id)
        .where(ApiToken.token_sha256 == _digest(token))
    ).first()
    if found is None:
        return None
    api_token, user = found
    if api_token.revoked_at is not None or not user.active:
        return None
    return _staff(user)
