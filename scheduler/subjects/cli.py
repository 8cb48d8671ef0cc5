"""Commands about the database and subjects: init, enroll, plan, subjects, records, audit."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from sqlmodel import Session

from scheduler import core
from scheduler.cli.options import DbOption, JsonOption, UserOption, engine_for, open_unit
from scheduler.cli.render import plan_text, print_json, table, terminal_width
from scheduler.core.plan import mg_number
from scheduler.i18n import LANGUAGES
from scheduler.kernel.actors import ANY_ROLE, NURSE_ACTIONS
from scheduler.kernel.audit_chain import verify_chain
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.subject_state import all_subjects, states, subject_state
from scheduler.kernel.validation import parse_optional_date
from scheduler.settings import get_settings
from scheduler.signatures.services import awaiting_signature, signatures_of
from scheduler.subjects.enrolment import ANCHOR_FIELDS, change_anchor, enroll
from scheduler.subjects.languages import change_language
from scheduler.subjects.records import audit_of, records_of


def enroll_command(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    c1d1: Annotated[str, typer.Option("--c1d1", help="Cycle 1 day 1, YYYY-MM-DD")],
    surgery: Annotated[
        str | None,
        typer.Option(
            "--surgery",
            help="Surgery date, YYYY-MM-DD (for protocols with visits counted from it)",
        ),
    ] = None,
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Investigator's reason to enrol outside the protocol's dates"
        ),
    ] = "",
    site: Annotated[str | None, typer.Option("--site", help="Site code")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="IANA time zone (default: site's)")] = None,
    dose_time: Annotated[str | None, typer.Option("--dose-time", help="HH:MM local")] = None,
    protocol: Annotated[str | None, typer.Option("--protocol", help="Protocol id")] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language", help=f"What the patient reads: {', '.join(LANGUAGES)} (default: site's)"
        ),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Enroll a subject and print the start of their plan."""
    settings = get_settings()
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        default_site = ensure_default_site(unit, settings) if site is None else None
        row = enroll(
            unit,
            subject,
            c1d1=c1d1,
            surgery=surgery,
            site_code=site,
            time_zone=tz,
            dose_time=dose_time,
            protocol_id=protocol,
            default_site=default_site,
            reason=reason,
            language=language,
        )
        plan = subject_state(unit.session, row.code, unit.now).plan()
    if as_json:
        print_json(core.plan_to_dict(plan))
    else:
        typer.echo(
            f"enrolled {row.code}: C1D1 {row.c1d1}, dose at {row.dose_time:%H:%M} {row.time_zone}"
        )


def plan_command(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    as_of: Annotated[str | None, typer.Option("--date", help="Plan as of this date")] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a subject's full plan: cycles, dosing days and visits."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        state = subject_state(unit.session, subject, unit.now)
    today = parse_optional_date("date", as_of) or state.today
    plan = core.build_plan(state.protocol, state.anchors, state.history, today)
    if as_json:
        typer.echo(core.plan_to_json(plan), nl=False)
    else:
        typer.echo(plan_text(plan))


def subjects_command(
    site: Annotated[str | None, typer.Option("--site", help="Site code")] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """List subjects with their treatment status and current dose."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        rows = []
        for state in states(unit.session, all_subjects(unit.session, site), unit.now):
            plan = state.plan()
            current = next((c for c in plan.cycles if c.status == "in_progress"), None)
            rows.append(
                {
                    "subject": plan.subject,
                    "site": state.site.code,
                    "protocol": plan.protocol.id,
                    "status": plan.status,
                    "dose_mg": mg_number(plan.dose_mg),
                    "cycle": current.number if current else None,
                    "c1d1": plan.anchors.c1d1,
                }
            )
    if as_json:
        print_json(rows)
    else:
        typer.echo(table(list(rows[0]) if rows else ["subject"], [list(r.values()) for r in rows]))


def set_anchor_command(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    field: Annotated[str, typer.Argument(help=f"One of: {', '.join(ANCHOR_FIELDS)}")],
    value: Annotated[str, typer.Argument(help="New value")],
    reason: Annotated[str, typer.Option("--reason", help="Why it changes (audited)")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Correct an anchor (C1D1, surgery date, time zone, dose time); the plan is re-derived."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        plan = change_anchor(unit, subject, field, value, reason)
    typer.echo(f"{subject}: {field} is now {value}; status {plan.status}")


def set_language_command(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    language: Annotated[str, typer.Argument(help=f"One of: {', '.join(LANGUAGES)}")],
    reason: Annotated[str, typer.Option("--reason", help="Why it changes (audited)")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Change the language of the patient's calendar, reminders and handout (audited)."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        row = change_language(unit, subject, language, reason)
    typer.echo(f"{subject}: language is now {row.language}")


def records_command(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """List what was recorded about a subject, with record ids (for `dosing void`) and the
    signature of each investigator's decision (or "awaiting signature")."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        lines = records_of(unit.session, subject)
        signed = {s.record: s for s in signatures_of(unit.session, subject)}
        waiting = {r.label for r in awaiting_signature(unit.session, subject)}

    def signature(kind: str, record_id: int) -> str:
        label = f"{kind}-{record_id}"
        if label in signed:
            found = signed[label]
            valid = "" if found.valid else " (DOES NOT MATCH THE RECORD)"
            return f"signed by {found.signer_name} at {found.signed_at}{valid}"
        return "awaiting signature" if label in waiting else ""

    if as_json:
        print_json([{**asdict(r), "signature": signature(r.kind, r.id)} for r in lines])
        return
    rows = [
        [
            r.kind,
            r.id,
            r.on,
            r.summary,
            f"{r.recorded_at:%Y-%m-%d %H:%M}Z",
            r.recorded_by,
            f"VOID: {r.voided}" if r.voided else "",
            signature(r.kind, r.id),
        ]
        for r in lines
    ]
    headers = ["kind", "id", "date", "what", "recorded", "by", "", "signature"]
    typer.echo(table(headers, rows))


def audit_command(
    subject: Annotated[
        str, typer.Argument(help="Subject code, or `verify` to check the whole trail's chain")
    ],
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a subject's audit trail: who changed what, when, and why. `dosing audit verify`
    checks the hash chain of the whole trail instead: exit 1 naming the first broken entry."""
    if subject == VERIFY:
        verify_command(db, as_json)
        return
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        entries = audit_of(unit.session, subject)
        data = [e.model_dump() for e in entries]
    if as_json:
        print_json(data)
        return
    rows = [
        [
            f"{e['at']:%Y-%m-%d %H:%M:%S}Z",
            e["actor"],
            e["action"],
            e["old_value"] or "",
            e["new_value"] or "",
            e["reason"],
        ]
        for e in data
    ]
    headers = ["at", "who", "action", "old", "new", "why"]
    typer.echo(table(headers, rows, width=terminal_width(), wrap=("old", "new", "why")))


VERIFY = "verify"
"""The word that makes ``dosing audit`` check the chain rather than show a subject's trail."""


def verify_command(db: str | None, as_json: bool) -> None:
    """Recompute the chain of the whole trail (read-only). Prints the number of entries and the
    head's hash, worth noting down outside the database: a trail cut short at its end is still
    a whole chain, but not one that ends at the noted head."""
    with Session(engine_for(db)) as session:
        report = verify_chain(session)
    broken = report.broken
    if as_json:
        print_json(
            {
                "intact": broken is None,
                "entries": report.entries,
                "head": report.head,
                "broken": None
                if broken is None
                else {
                    "entry_id": broken.entry_id,
                    "at": broken.at,
                    "action": broken.action,
                    "problem": broken.problem,
                },
            }
        )
    elif broken is None:
        typer.echo(f"audit trail intact: {report.entries} entries, head {report.head}")
    else:
        typer.echo(
            f"audit trail broken at entry {broken.entry_id} ({broken.at:%Y-%m-%d %H:%M:%S}Z, "
            f"{broken.action}): {broken.problem}; the {report.entries} entries before it are "
            "intact",
            err=True,
        )
    if broken is not None:
        raise typer.Exit(1)
