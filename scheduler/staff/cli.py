"""`dosing user ...`: staff accounts, their sites, login lockouts and API tokens. Passwords are
typed at a prompt (or read from stdin with --password-stdin), never given as an argument that
shells keep in history."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, engine_for, open_unit
from scheduler.cli.render import print_json, table
from scheduler.db import transaction
from scheduler.errors import InputError
from scheduler.i18n import LANGUAGES
from scheduler.kernel.actors import ADMIN_ACTIONS, has_staff
from scheduler.kernel.unit import unit_of_work
from scheduler.models import ROLES
from scheduler.staff.accounts import (
    MAX_TOKEN_LIFETIME_DAYS,
    TOKEN_LIFETIME_DAYS,
    check_role,
    create_first_admin,
    create_staff,
    deactivate,
    issue_api_token,
    list_staff,
    list_tokens,
    reactivate,
    revoke_api_token,
    set_language,
    set_sites,
)
from scheduler.staff.throttle import unlock

app = typer.Typer(
    help="Staff accounts: add, list, sites, language, unlock, deactivate, reactivate, API tokens.",
    no_args_is_help=True,
)
Name = Annotated[str, typer.Argument(help="Staff user name (recorded in the audit trail)")]
SiteOption = Annotated[
    list[str] | None,
    typer.Option(
        "--site", help="A site the account works at (repeat for several; none: all sites)"
    ),
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (audited)")]
LanguageOption = Annotated[
    str, typer.Option("--language", help=f"Language of the account's pages: {', '.join(LANGUAGES)}")
]


@app.command("add")
def add(
    name: Name,
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}")],
    site: SiteOption = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first stdin line")
    ] = False,
    language: LanguageOption = "en",
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Create a staff account with a role, working at the sites given (default: all sites).
    On a database without any account this creates the first admin (no --user needed)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if _awaits_first_admin(db):
        if check_role(role) != "admin":
            raise InputError("role", "the first account of a database must be an admin")
        with unit_of_work(engine_for(db), name) as unit:
            staff = create_first_admin(
                unit, name, password=password, sites=site or (), language=language
            )
    else:
        with open_unit(db, user, roles=ADMIN_ACTIONS) as unit:
            staff = create_staff(
                unit, name, role=role, password=password, sites=site or (), language=language
            )
    where = f" at {', '.join(staff.sites)}" if staff.sites else ""
    typer.echo(f"created {staff.name} ({staff.role}{where})")


@app.command("list")
def list_command(db: DbOption = None, user: UserOption = None, as_json: JsonOption = False) -> None:
    """List staff accounts with their sites and any lockout after failed logins."""
    with open_unit(db, user, roles=ADMIN_ACTIONS) as unit:
        accounts = list_staff(unit.session, unit.now)
    if as_json:
        print_json(
            [
                {
                    "name": s.name,
                    "role": s.role,
                    "sites": list(s.sites),
                    "language": s.language,
                    "active": s.active,
                    "locked_until": s.locked_until,
                    "created_by": s.created_by,
                }
                for s in accounts
            ]
        )
        return
    headers = ["name", "role", "sites", "language", "active", "locked_until", "created_by"]
    cells = [
        [
            s.name,
            s.role,
            ", ".join(s.sites) or "all",
            s.language,
            s.active,
            s.locked_until,
            s.created_by,
        ]
        for s in accounts
    ]
    typer.echo(table(headers, cells))


@app.command("sites")
def sites_command(
    name: Name,
    reason: ReasonOption,
    site: SiteOption = None,
    all_sites: Annotated[
        bool, typer.Option("--all-sites", help="Make the account study-wide (no --site)")
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Set the sites NAME works at: --site (repeated) or --all-sites."""
    if bool(site) == all_sites:
        raise InputError("site", "give --site (one or more) or --all-sites, not both or neither")
    with open_unit(db, user, roles=ADMIN_ACTIONS) as unit:
        staff = set_sites(unit, name, site or (), reason=reason)
    typer.echo(f"{staff.name} works at {', '.join(staff.sites) if staff.sites else 'all sites'}")


@app.command("language")
def language_command(
    name: Name,
    language: Annotated[str, typer.Argument(help=f"One of: {', '.join(LANGUAGES)}")],
    reason: ReasonOption,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Set the language NAME's pages are shown in (from the account's next page)."""
    with open_unit(db, user, roles=ADMIN_ACTIONS) as unit:
        staff = set_language(unit, name, language, reason=reason)
    typer.echo(f"{staff.name} reads {staff.language}")


@app.command("unlock")
def unlock_command(
    name: Name, reason: ReasonOption, db: DbOption = None, user: UserOption = None
) -> None:
    """Lift NAME's lockout after too many failed logins (and forget the failures)."""
    with open_unit(db, user, roles=ADMIN_ACTIONS) as unit:
        unlock(unit, name, reason=reason)
    typer.echo(f"unlocked {name}")


@app.command("deactivate")
def deactivate_command(
    name: Name, reason: ReasonOption, db: DbOption = None, user: UserOption = None
) -> None:
    """Lock an account: its sessions end and its API tokens stop working at once."""
    with open_unit(db, user, roles=ADMIN_ACTIONS) as unit:
        staff = deactivate(unit, name, reason=reason)
    typer.echo(f"deactivated {staff.name}")


@app.command("reactivate")
def reactivate_command(
    name: Name, reason: ReasonOption, db: DbOption = None, user: UserOption = None
) -> None:
    """Let a deactivated account log in again (its old sessions and API tokens stay ended)."""
    with open_unit(db, user, roles=ADMIN_ACTIONS) as unit:
        staff = reactivate(unit, name, reason=reason)
    typer.echo(f"reactivated {staff.name}")


def _awaits_first_admin(db: str | None) -> bool:
    with transaction(engine_for(db)) as session:
        return not has_staff(session)


@app.command("token")
def token_command(
    name: Name,
    label: Annotated[str, typer.Option("--label", help="What the token is for")] = "",
    days: Annotated[
        int,
        typer.Option("--days", help=f"Days until it expires (1 to {MAX_TOKEN_LIFETIME_DAYS})"),
    ] = TOKEN_LIFETIME_DAYS,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Issue an API bearer token acting as NAME; it is printed once and stored only hashed."""
    with open_unit(db, user, roles=ADMIN_ACTIONS) as unit:
        token = issue_api_token(unit, name, label=label, days=days)
    typer.echo(token)


@app.command("tokens")
def tokens_command(
    name: Name, db: DbOption = None, user: UserOption = None, as_json: JsonOption = False
) -> None:
    """List NAME's API tokens (never the tokens themselves): expiry, last use, revocation."""
    with open_unit(db, user, roles=ADMIN_ACTIONS) as unit:
        rows = [
            {
                "id": t.id,
                "label": t.label,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "last_used_at": t.last_used_at,
                "revoked_at": t.revoked_at,
            }
            for t in list_tokens(unit.session, name)
        ]
    if as_json:
        print_json(rows)
        return
    headers = ["id", "label", "created_at", "expires_at", "last_used_at", "revoked_at"]
    typer.echo(table(headers, [[r[h] for h in headers] for r in rows]))


@app.command("revoke-token")
def revoke_token_command(
    name: Name,
    token_id: Annotated[int, typer.Argument(help="The token's id (see `dosing user tokens`)")],
    reason: ReasonOption,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Revoke one API token of NAME; its other tokens go on working."""
    with open_unit(db, user, roles=ADMIN_ACTIONS) as unit:
        revoke_api_token(unit, name, token_id, reason=reason)
    typer.echo(f"revoked token {token_id} of {name}")
