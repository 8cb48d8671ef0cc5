"""Options every command shares, and the one way a command opens its unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy import Engine

from scheduler.errors import InputError
from scheduler.kernel.actors import require_account
from scheduler.kernel.unit import Unit, unit_of_work
from scheduler.migrate import require_current
from scheduler.settings import get_settings

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: DOSING_DATABASE_URL or DATABASE_URL, then sqlite:///dosing.db)",
        show_default=False,
    ),
]
UserOption = Annotated[
    str | None,
    typer.Option(
        "--user",
        help="Your staff account, recorded in the audit trail (default: DOSING_USER)",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def database_url(db: str | None) -> str:
    return db or get_settings().database_url


def engine_for(db: str | None) -> Engine:
    return require_current(database_url(db))


def acting_user(user: str | None) -> str:
    """The staff account named by ``--user`` or DOSING_USER; the operating-system user is never
    taken in their place."""
    name = (user if user is not None else get_settings().user).strip()
    if not name:
        raise InputError("user", "name your staff account with --user NAME or DOSING_USER")
    return name


@contextmanager
def open_unit(db: str | None, user: str | None, *, roles: tuple[str, ...]) -> Iterator[Unit]:
    """The command's unit of work, acting as the staff account ``--user`` (or DOSING_USER)
    names. The account must exist, be active and have one of ``roles``, the same roles the web
    app asks for the same action; otherwise nothing is done (exit 2 naming ``user``). An
    account with sites sees only those sites' subjects, as on the web (docs/staff-app.md)."""
    with unit_of_work(engine_for(db), acting_user(user), bind_account=True) as unit:
        require_account(unit.session, unit.actor, roles)
        yield unit
