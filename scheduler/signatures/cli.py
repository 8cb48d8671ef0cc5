"""`dosing sign RECORD-ID`, `dosing signatures SUBJECT` and `dosing signature-manifest`.

Signing needs a terminal: the password is typed at a prompt without echo, never passed as an
argument or piped in. Without a terminal the command is refused and the decision stays
"awaiting signature"."""

from __future__ import annotations

import sys
from dataclasses import asdict
from getpass import getpass
from pathlib import Path
from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, engine_for, open_unit
from scheduler.cli.render import print_json, table, write_file
from scheduler.errors import InputError
from scheduler.kernel.actors import ANY_ROLE, INVESTIGATOR_ACTIONS
from scheduler.kernel.unit import unit_of_work
from scheduler.signatures.manifest import manifest_csv
from scheduler.signatures.records import parse_record_id
from scheduler.signatures.services import (
    SignatureRefused,
    awaiting_signature,
    record_failed_signature,
    sign,
    signatures_of,
)

CLI_ADDRESS = "cli"
"""What the lockout counts a failed signature at the terminal against (no client address)."""


def _password() -> str:
    if not sys.stdin.isatty():
        raise InputError(
            "password",
            "signing needs a terminal to type the password; nothing was signed and the "
            "decision stays awaiting signature",
        )
    return getpass("Password: ")


def sign_command(
    record: Annotated[str, typer.Argument(help="The record to sign, e.g. hold-7")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (needed when the decision departs from the rule)")
    ] = "",
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Sign an investigator's decision (hold, resumption, discontinuation, day-1 criteria, or
    the void of one) as yourself, re-entering your password."""
    kind, record_id = parse_record_id(record)
    with open_unit(db, user, roles=INVESTIGATOR_ACTIONS) as unit:
        actor = unit.actor
    password = _password()
    try:
        with open_unit(db, user, roles=INVESTIGATOR_ACTIONS) as unit:
            signature = sign(
                unit, kind, record_id, password=password, reason=reason, address=CLI_ADDRESS
            )
    except SignatureRefused:
        with unit_of_work(engine_for(db), actor) as unit:
            record_failed_signature(unit, actor, kind, record_id, CLI_ADDRESS)
        raise
    typer.echo(f"signed {record} by {signature.signer_name}: {signature.meaning}")


def signatures_command(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """The subject's signatures and the decisions still awaiting one."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        signed = signatures_of(unit.session, subject)
        waiting = awaiting_signature(unit.session, subject)
    if as_json:
        print_json(
            {
                "signed": [asdict(line) for line in signed],
                "awaiting_signature": [
                    {"record": r.label, "meaning": r.meaning, "deviation": r.deviation}
                    for r in waiting
                ],
            }
        )
        return
    headers = ["record", "meaning", "signed by", "at (UTC)", "at (site)", "reason", "valid"]
    cells = [
        [s.record, s.meaning, s.signer_name, s.signed_at, s.signed_local, s.reason, s.valid]
        for s in signed
    ]
    typer.echo(table(headers, cells))
    for record in waiting:
        typer.echo(f"awaiting signature: {record.label}: {record.meaning}")


def manifest_command(
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file")] = None,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Write the signature manifest CSV (every signature, and whether it matches its record)."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        text = manifest_csv(unit.session)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_file("out", out, text)
        typer.echo(f"wrote {len(text.splitlines()) - 1} signatures to {out}")
