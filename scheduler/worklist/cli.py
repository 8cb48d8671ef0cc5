"""The nurse's worklist on the command line: the same lists as the home page."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, open_unit
from scheduler.cli.render import mg, print_json, table
from scheduler.kernel.actors import ANY_ROLE
from scheduler.kernel.validation import parse_optional_date
from scheduler.worklist.items import Worklist, worklist_json, worklists


def _text(lists: list[Worklist]) -> str:
    out: list[str] = []
    for w in lists:
        out.append(f"site {w.site}, {w.date}")
        if not w.items:
            out.append("nothing due")
        for title, items in w.groups():
            rows = [
                [
                    i.subject,
                    i.kind,
                    i.what,
                    i.detail,
                    i.target or "",
                    f"{i.window_start}..{i.window_end}" if i.window_start else "",
                    mg(i.dose_mg),
                ]
                for i in items
            ]
            out += ["", f"{title}:"]
            out.append(
                table(["subject", "item", "what", "detail", "target", "window", "dose"], rows)
            )
        out.append("")
    return "\n".join(out).rstrip()


def print_worklist(
    db: str | None, user: str | None, on: str | None, site: str | None, *, as_json: bool
) -> None:
    day = parse_optional_date("date", on)
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        lists = worklists(unit.session, unit.now, site_code=site, on=day)
    if as_json:
        print_json(worklist_json(lists))
    else:
        typer.echo(_text(lists))


def due(
    on: Annotated[
        str | None, typer.Option("--date", help="Day to check (default: today at the site)")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Site code")] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who is due: visits due, in window or overdue; holds; missed doses; day-1 checks."""
    print_worklist(db, user, on, site, as_json=as_json)
