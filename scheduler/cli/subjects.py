"""Commands about the database and subjects: init, enroll, plan, subjects, records, audit."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler import core
from scheduler.cli.options import DbOption, JsonOption, UserOption, database_url, open_unit
from scheduler.cli.render import plan_text, print_json, table
from scheduler.clock import SystemClock
from scheduler.core.plan import mg_number
from scheduler.db import get_engine
from scheduler.migrate import upgrade
from scheduler.services.protocols import load_shipped_protocols
from scheduler.services.records import audit_of, records_of
from scheduler.services.sites import ensure_default_site
from scheduler.services.subjects import (
    ANCHOR_FIELDS,
    all_subjects,
    change_anchor,
    enroll,
    states,
    subject_state,
)
from scheduler.services.unit import unit_of_work
from scheduler.services.validation import parse_optional_date
from scheduler.settings import get_settings


def init(db: DbOption = None, user: UserOption = None) -> None:
    """Create or upgrade the database and load the shipped protocols."""
    url = database_url(db)
    upgrade(url)
    settings = get_settings()
    with unit_of_work(get_engine(url), user or settings.user) as unit:
        versions = load_shipped_protocols(unit)
        site = ensure_default_site(unit, settings)
    typer.echo(f"database ready: {url}")
    for version in versions:
        typer.echo(f"protocol {version.protocol_id} v{version.version} ({version.sha256[:12]})")
    typer.echo(f"default site {site.code}: {site.name} ({site.time_zone})")


def enroll_command(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    c1d1: Annotated[str, typer.Option("--c1d1", help="Cycle 1 day 1, YYYY-MM-DD")],
    surgery: Annotated[str, typer.Option("--surgery", help="Liver resection date, YYYY-MM-DD")],
    site: Annotated[str | None, typer.Option("--site", help="Site code")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="IANA time zone (default: site's)")] = None,
    dose_time: Annotated[str | None, typer.Option("--dose-time", help="HH:MM local")] = None,
    protocol: Annotated[str | None, typer.Option("--protocol", help="Protocol id")] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Enroll a subject and print the start of their plan."""
    settings = get_settings()
    with open_unit(db, user) as unit:
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
    with open_unit(db, user) as unit:
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
    with open_unit(db, user) as unit:
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
    with open_unit(db, user) as unit:
        plan = change_anchor(unit, subject, field, value, reason)
    typer.echo(f"{subject}: {field} is now {value}; status {plan.status}")


def records_command(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """List what was recorded about a subject, with record ids (for `dosing void`)."""
    with open_unit(db, user) as unit:
        lines = records_of(unit.session, subject)
    if as_json:
        print_json(lines)
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
        ]
        for r in lines
    ]
    typer.echo(table(["kind", "id", "date", "what", "recorded", "by", ""], rows))


def audit_command(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the audit trail: who changed what, when, and why."""
    with open_unit(db, user) as unit:
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
    typer.echo(table(["at", "who", "action", "old", "new", "why"], rows))


def demo(db: DbOption = None, user: UserOption = None) -> None:
    """Set up the embedded demo (SQLite, NCT03945799, five subjects) and show today's work."""
    from scheduler.cli.worklist import print_worklist
    from scheduler.services.demo import DEMO_PASSWORD, seed_demo, seed_demo_staff

    url = database_url(db)
    upgrade(url)
    settings = get_settings()
    with unit_of_work(get_engine(url), user or settings.user, SystemClock()) as unit:
        load_shipped_protocols(unit)
        site = ensure_default_site(unit, settings)
        created = seed_demo(unit, site)
        logins = seed_demo_staff(unit)
    typer.echo(f"demo database: {url} ({len(created)} subjects created)\n")
    subjects_command(db=url, user=user)
    typer.echo("")
    print_worklist(url, user, None, None, as_json=False)
    typer.echo("\ndemo logins (password " + repr(DEMO_PASSWORD) + "):")
    for name, role in logins:
        typer.echo(f"  {name:<20} {role}")
