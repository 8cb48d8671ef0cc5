"""Who may act: the roles each kind of decision needs, and the check that the name a command
acts as is an existing, active staff account with one of them.

The web app and the API get the name from a login or a token; the CLI gets it from ``--user``
or ``DOSING_USER``. Either way the same rule holds, so that the audit trail only ever names a
person with an account, and a role refused on the web is refused from the shell too.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from scheduler.errors import InputError
from scheduler.models import ROLES, StaffUser

ANY_ROLE: tuple[str, ...] = ROLES
"""Reading: every role reads the plans, lists and exports of its sites."""
NURSE_ACTIONS: tuple[str, ...] = ("nurse", "investigator")
"""Record visits, doses, adverse events and holds; enrol; correct a record."""
INVESTIGATOR_ACTIONS: tuple[str, ...] = ("investigator",)
"""Resumptions (with or without a reduction), discontinuations, signatures, day-1 criteria."""
PHARMACY_ACTIONS: tuple[str, ...] = ("pharmacist",)
"""Preparations, dispensings, returns, reconciliation reviews."""
ADMIN_ACTIONS: tuple[str, ...] = ("admin",)
"""Staff accounts, their sites, lockouts and API tokens."""


def require_account(session: Session, name: str, roles: tuple[str, ...]) -> StaffUser:
    """The active staff account ``name`` if its role is one of ``roles``; otherwise an
    InputError naming ``user`` (an unknown name, a deactivated account, a role that may not)."""
    row = session.exec(select(StaffUser).where(StaffUser.name == name)).first()
    if row is None:
        raise InputError(
            "user",
            f"{name!r} is not a staff account; act as your own account "
            "(--user NAME or DOSING_USER)",
        )
    if not row.active:
        raise InputError("user", f"staff account {name!r} is deactivated")
    if row.role not in roles:
        raise InputError(
            "user", f"{name} is a {row.role}; this needs the role {' or '.join(roles)}"
        )
    return row


def has_staff(session: Session) -> bool:
    """Whether any staff account exists (none: the database awaits its first admin)."""
    return bool(session.exec(select(func.count(col(StaffUser.id)))).one())
