"""`dosing user ...`: staff accounts and API tokens. Passwords are typed at a prompt (or read
from stdin with --password-stdin), never given as an argument that shells keep in history."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, open_unit
from scheduler.cli.render import print_json, table
from scheduler.models import ROLES
from scheduler.staff.accounts import create_staff, deactivate, issue_api_token, list_staff

app = typer.Typer(help="Staff accounts: add, list, deactivate, API tokens.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="Staff user name (recorded in the audit trail)")]


@app.command("add")
def add(
    name: Name,
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first stdin line")
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Create a staff account with a role."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_unit(db, user) as unit:
        staff = create_staff(unit, name, role=role, password=password)
    typer.echo(f"created {staff.name} ({staff.role})")


@app.command("list")
def list_command(db: DbOption = None, user: UserOption = None, as_json: JsonOption = False) -> None:
    """List staff accounts."""
    with open_unit(db, user) as unit:
        rows = [
            {"name": s.name, "role": s.role, "active": s.active, "created_by": s.created_by}
            for s in list_staff(unit.session)
        ]
    if as_json:
        print_json(rows)
    else:
        typer.echo(
            table(["name", "role", "active", "created_by"], [list(r.values()) for r in rows])
        )


@app.command("deactivate")
def deactivate_command(
    name: Name,
    reason: Annotated[str, typer.Option("--reason", help="Why (audited)")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Lock an account: its sessions end and its API tokens stop working at once."""
    with open_unit(db, user) as unit:
        staff = deactivate(unit, name, reason=reason)
    typer.echo(f"deactivated {staff.name}")


@app.command("token")
def token_command(
    name: Name,
    label: Annotated[str, typer.Option("--label", help="What the token is for")] = "",
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Issue an API bearer token acting as NAME; it is printed once and stored only hashed."""
    with open_unit(db, user) as unit:
        token = issue_api_token(unit, name, label=label)
    typer.echo(token)
