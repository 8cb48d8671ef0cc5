"""Options every command shares, and the one way a command opens its unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy import Engine

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
    typer.Option("--user", help="Who is recorded in the audit trail (default: DOSING_USER)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def database_url(db: str | None) -> str:
    return db or get_settings().database_url


def engine_for(db: str | None) -> Engine:
    return require_current(database_url(db))


@contextmanager
def open_unit(db: str | None, user: str | None) -> Iterator[Unit]:
    """The command's unit of work. When the acting user (``--user``, DOSING_USER) is the name of
    a staff account with sites, the command sees only those sites' subjects, as on the web; any
    other name acts study-wide (docs/staff-app.md)."""
    with unit_of_work(engine_for(db), user or get_settings().user, bind_account=True) as unit:
        yield unit
