"""Calendar feeds on the command line: secret feed URLs for patients and staff, and a
subject's calendar as a file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, engine_for, open_unit
from scheduler.cli.render import print_json, write_file
from scheduler.clock import SystemClock
from scheduler.errors import InputError
from scheduler.feeds.serving import subject_calendar
from scheduler.feeds.tokens import (
    APPOINTMENTS,
    PATIENT,
    PHARMACY,
    SITE_VISITS,
    IssuedToken,
    issue_feed,
    revoke_feed,
    token_status,
)
from scheduler.kernel.actors import ANY_ROLE, NURSE_ACTIONS
from scheduler.settings import get_settings

Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail)")]
_STAFF_KINDS = {"visits": SITE_VISITS, "pharmacy": PHARMACY, "appointments": APPOINTMENTS}


def _print(owner: str, issued: IssuedToken, rotated: bool, as_json: bool) -> None:
    if as_json:
        print_json({"owner": owner, "https": issued.https, "webcal": issued.webcal})
    else:
        typer.echo(issued.https)
        typer.echo(issued.webcal)
    typer.echo(
        "The link is shown only now (only its hash is stored)"
        + ("; the previous link no longer works." if rotated else ".")
        + " Subscribe with the webcal:// form.",
        err=True,
    )


def _print_revoked(owner: str, count: int, text: str, as_json: bool) -> None:
    if as_json:
        print_json({"owner": owner, "revoked": count})
    else:
        typer.echo(text)


def feed_url(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Issue a new URL; the old one stops working")
    ] = False,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Withdraw the URL (clients get 410)")
    ] = False,
    reason: Reason = "",
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue (or rotate, or revoke) the subject's calendar feed URL; prints https and webcal://.

    A URL can be printed only when it is issued: without --rotate, a subject that already has a
    live URL is refused (rotating would break the patient's current subscription)."""
    if rotate and revoke:
        raise InputError("rotate", "give --rotate or --revoke, not both")
    settings = get_settings()
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        if revoke:
            count = revoke_feed(unit, PATIENT, subject, reason=reason)
            _print_revoked(subject, count, f"revoked {count} feed URL(s) of {subject}", as_json)
            return
        live = bool(token_status(unit.session, PATIENT, subject)["live"])
        if live and not rotate:
            raise InputError(
                "subject",
                f"{subject} already has a live feed URL, which cannot be shown again; "
                "use --rotate to issue a new one (the old one stops working)",
            )
        issued = issue_feed(unit, settings, PATIENT, subject, reason=reason)
    _print(subject, issued, live, as_json)


def staff_feed_url(
    site: Annotated[str, typer.Option("--site", help="Site code")],
    kind: Annotated[
        str, typer.Option("--kind", help="visits, pharmacy or appointments")
    ] = "visits",
    revoke: Annotated[bool, typer.Option("--revoke", help="Withdraw the URL")] = False,
    reason: Reason = "",
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a staff calendar feed URL for a site (nurses' visits or pharmacy preparation);
    issuing again rotates it."""
    if kind not in _STAFF_KINDS:
        raise InputError("kind", f"{kind!r} is not one of: {', '.join(_STAFF_KINDS)}")
    settings = get_settings()
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        if revoke:
            count = revoke_feed(unit, _STAFF_KINDS[kind], site, reason=reason)
            _print_revoked(
                site, count, f"revoked {count} {kind} feed URL(s) of site {site}", as_json
            )
            return
        issued = issue_feed(unit, settings, _STAFF_KINDS[kind], site, reason=reason)
    _print(site, issued, rotated=False, as_json=as_json)


def ics(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write to this file")] = None,
    db: DbOption = None,
) -> None:
    """Write the subject's calendar (the same bytes as the patient feed) to a file or stdout."""
    body = subject_calendar(engine_for(db), subject, SystemClock(), get_settings())
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    write_file("out", out, body)
    typer.echo(f"wrote the calendar of {subject} to {out}", err=True)
