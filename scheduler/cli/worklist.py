"""The nurse's worklist on the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, open_unit
from scheduler.cli.render import print_json, table
from scheduler.services.validation import parse_date
from scheduler.services.worklist import worklist


def print_worklist(
    db: str | None, user: str | None, on: str | None, site: str | None, *, as_json: bool
) -> None:
    day = parse_date("date", on) if on else None
    with open_unit(db, user) as unit:
        items = worklist(unit.session, unit.now, site_code=site, on=day)
    if as_json:
        print_json(items)
        return
    if not items:
        typer.echo("nothing due")
        return
    rows = [
        [
            i.subject,
            i.kind,
            i.what,
            i.detail,
            i.target or "",
            f"{i.window_start}..{i.window_end}" if i.window_start else "",
        ]
        for i in items
    ]
    typer.echo(table(["subject", "item", "what", "detail", "target", "window"], rows))


def due(
    on: Annotated[str | None, typer.Option("--date", help="Day to check (default: today)")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Site code")] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who is due: visits in their window, overdue visits, unrecorded doses, holds, proposals."""
    print_worklist(db, user, on, site, as_json=as_json)
