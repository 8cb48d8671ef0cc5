"""Login throttling (OWASP ASVS 2.2.1): growing delays per account name and per client address,
and a lockout after ``LOCKOUT_FAILURES`` failures in a row, which an admin can lift.

Nothing waits on the server: each failure is stored with its time (``LoginFailure``), and an
attempt made before the next allowed time is refused with 429 and Retry-After, without checking
its password, so a locked account cannot be guessed at either. Failures are kept in their own
table rather than read back from the audit trail because the throttle needs two indexed counts
per attempt (by name, by address) and forgets them on a successful login; the audit trail keeps
every failure and lockout for good.

Names are throttled whether or not an account has them: an unknown name answers exactly like a
known one, so the throttle does not tell which names exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, func, select

from scheduler.errors import Conflict, NotFound
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text
from scheduler.models import LoginFailure, StaffUser

FREE_FAILURES = 3
"""Failures of one name before any delay: typing slips cost nothing."""
LOCKOUT_FAILURES = 10
"""Failures in a row that lock a name for ``LOCKOUT``; each further failure locks it again."""
LOCKOUT = timedelta(minutes=15)
ADDRESS_FREE_FAILURES = 10
"""Failures from one address within ``ADDRESS_WINDOW`` before it is slowed down: a clinic's
nurses often share one address behind its router."""
ADDRESS_WINDOW = timedelta(minutes=15)
MAX_ADDRESS_DELAY = timedelta(seconds=60)
FORGET_AFTER = timedelta(days=1)
"""A name's failures older than this no longer count (nor are they kept)."""
_UNKNOWN_ADDRESS = "unknown"


def account_delay(failures: int) -> timedelta:
    """How long after its last failure a name may try again: nothing for the first
    ``FREE_FAILURES``, then 1, 2, 4 ... 64 seconds, then the lockout."""
    if failures >= LOCKOUT_FAILURES:
        return LOCKOUT
    if failures < FREE_FAILURES:
        return timedelta(0)
    return timedelta(seconds=2 ** (failures - FREE_FAILURES))


def address_delay(failures: int) -> timedelta:
    """How long after its last failure an address may try again (any name): growing from one
    second to ``MAX_ADDRESS_DELAY``, which slows down a guesser trying many names."""
    if failures < ADDRESS_FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - ADDRESS_FREE_FAILURES)), MAX_ADDRESS_DELAY)


@dataclass(frozen=True)
class Wait:
    """Why and how long an attempt must wait."""

    seconds: int
    locked: bool
    """The name is locked out (an admin can lift it), not merely slowed down."""


def attempted_name(name: str) -> str:
    """The typed name as the audit trail and the throttle keep it: printable, at most 64
    characters (the password is never kept anywhere)."""
    printable = "".join(c if c.isprintable() else "?" for c in name.strip())
    return printable[:64] or "(no name)"


def _address(address: str | None) -> str:
    return (address or _UNKNOWN_ADDRESS)[:64]


def _failures(session: Session, key: Any, since: datetime) -> tuple[int, datetime]:
    """How many failures match ``key`` (a condition on name or address) since ``since``, and
    the time of the last one."""
    at = col(LoginFailure.at)
    count, last = session.exec(select(func.count(), func.max(at)).where(key, at > since)).one()
    return int(count), last


def login_wait(session: Session, name: str, address: str | None, now: datetime) -> Wait | None:
    """The wait before ``name`` may try a password from ``address``, or None to go ahead."""
    name, address = attempted_name(name), _address(address)
    waits: list[tuple[datetime, bool]] = []
    count, last = _failures(session, col(LoginFailure.name) == name, now - FORGET_AFTER)
    if count:
        waits.append((last + account_delay(count), count >= LOCKOUT_FAILURES))
    count, last = _failures(session, col(LoginFailure.address) == address, now - ADDRESS_WINDOW)
    if count:
        waits.append((last + address_delay(count), False))
    pending = [(until, locked) for until, locked in waits if until > now]
    if not pending:
        return None
    until = max(u for u, _ in pending)
    seconds = int((until - now).total_seconds() + 0.999)
    return Wait(seconds=max(seconds, 1), locked=any(locked for _, locked in pending))


def record_failure(unit: Unit, name: str, address: str | None) -> Wait | None:
    """Keep a failed attempt (audited as ``staff.login_failed`` under the typed name, with the
    address), and a lockout when it is the ``LOCKOUT_FAILURES``-th in a row. Returns the wait
    the name and address now face."""
    name, address = attempted_name(name), _address(address)
    unit.session.exec(delete(LoginFailure).where(col(LoginFailure.at) < unit.now - FORGET_AFTER))
    unit.session.add(LoginFailure(name=name, address=address, at=unit.now))
    unit.session.flush()
    account = unit.session.exec(select(StaffUser.id).where(StaffUser.name == name)).first()
    unit.actor = name
    unit.audit("staff.login_failed", entity="staff", entity_id=account, new={"address": address})
    count, _ = _failures(unit.session, col(LoginFailure.name) == name, unit.now - FORGET_AFTER)
    if count >= LOCKOUT_FAILURES:
        unit.audit(
            "staff.lockout",
            entity="staff",
            entity_id=account,
            new={"failures": count, "locked_until": unit.now + LOCKOUT},
        )
    return login_wait(unit.session, name, address, unit.now)


def clear_failures(unit: Unit, name: str) -> int:
    """Forget the failures of ``name`` (after a successful login); returns how many."""
    found = unit.session.exec(
        select(func.count()).where(LoginFailure.name == attempted_name(name))
    ).one()
    unit.session.exec(delete(LoginFailure).where(col(LoginFailure.name) == attempted_name(name)))
    return int(found)


def locked_until(session: Session, now: datetime) -> dict[str, datetime]:
    """The names locked out now, with the end of their lockout: what the admin page shows."""
    rows = session.exec(
        select(LoginFailure.name, func.count(), func.max(col(LoginFailure.at)))
        .where(col(LoginFailure.at) > now - FORGET_AFTER)
        .group_by(col(LoginFailure.name))
        .having(func.count() >= LOCKOUT_FAILURES)
    ).all()
    return {name: last + LOCKOUT for name, _, last in rows if last + LOCKOUT > now}


def unlock(unit: Unit, name: str, *, reason: str) -> None:
    """Lift the lockout of (and forget every failure of) the account ``name``, audited with the
    admin's reason."""
    reason = check_text("reason", reason, required=True)
    account = unit.session.exec(select(StaffUser.id).where(StaffUser.name == name)).first()
    if account is None:
        raise NotFound("name", f"no staff user {name!r}")
    until = locked_until(unit.session, unit.now).get(name)
    cleared = clear_failures(unit, name)
    if not cleared:
        raise Conflict("name", f"staff user {name!r} has no failed logins to clear")
    unit.audit(
        "staff.unlock",
        entity="staff",
        entity_id=account,
        old={"failures": cleared, "locked_until": until},
        new={"failures": 0, "locked_until": None},
        reason=reason,
    )
