"""`dosing init` and `dosing demo`: the commands that set a database up (all features)."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler.app.demo import DEMO_PASSWORD, reset_sqlite_file, seed_demo, seed_demo_staff
from scheduler.app.demo_records import (
    seed_demo_appointments,
    seed_demo_clinic,
    seed_demo_pharmacy,
    seed_demo_reminders,
)
from scheduler.cli.options import DbOption, database_url
from scheduler.clock import SystemClock
from scheduler.db import get_engine
from scheduler.kernel.protocol_versions import load_shipped_protocols
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.unit import unit_of_work
from scheduler.migrate import upgrade
from scheduler.settings import get_settings
from scheduler.subjects.cli import subjects_command
from scheduler.worklist.cli import print_worklist

SETUP_ACTOR = "setup"
"""The audit actor of the schema, protocol and default-site set-up: no person's decision, and
never the operating-system user. Everything after it is done as a staff account; the first one
is `dosing user add NAME --role admin`."""
DEMO_READER = "demo-investigator"
"""The demo account the demo trial is recorded as (its records include an investigator's
resumption and discontinuation), and its printed lists are read as."""


def init(db: DbOption = None) -> None:
    """Create or upgrade the database and load the shipped protocols."""
    url = database_url(db)
    upgrade(url)
    settings = get_settings()
    with unit_of_work(get_engine(url), SETUP_ACTOR) as unit:
        versions = load_shipped_protocols(unit)
        site = ensure_default_site(unit, settings)
    typer.echo(f"database ready: {url}")
    for version in versions:
        typer.echo(f"protocol {version.protocol_id} v{version.version} ({version.sha256[:12]})")
    typer.echo(f"default site {site.code}: {site.name} ({site.time_zone})")


def demo(
    db: DbOption = None,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset", help="Delete the demo's SQLite file first and seed it afresh as of today"
        ),
    ] = False,
) -> None:
    """Set up the embedded demo (SQLite, NCT03945799, five subjects, one account per role,
    pharmacy records, appointments and reminders placed relative to today) and show today's
    work."""
    url = database_url(db)
    if reset:
        removed = reset_sqlite_file(url)
        typer.echo(f"removed {removed}" if removed else f"nothing to remove at {url}")
    upgrade(url)
    settings = get_settings()
    engine = get_engine(url)
    clock = SystemClock()
    with unit_of_work(engine, SETUP_ACTOR, clock) as unit:
        load_shipped_protocols(unit)
        logins = seed_demo_staff(unit)
    with unit_of_work(engine, DEMO_READER, clock) as unit:
        created = seed_demo(unit, ensure_default_site(unit, settings))
    if created:
        # Each record as the role that makes it in the clinic.
        with unit_of_work(engine, "demo-pharmacist", clock, settings) as unit:
            seed_demo_pharmacy(unit)
        with unit_of_work(engine, "demo-admin", clock, settings) as unit:
            seed_demo_clinic(unit, settings.default_site_code)
        with unit_of_work(engine, "demo-nurse", clock, settings) as unit:
            seed_demo_appointments(unit)
        seed_demo_reminders(engine, settings, "demo-nurse", clock.now())
    typer.echo(f"demo database: {url} ({len(created)} subjects created)\n")
    subjects_command(db=url, user=DEMO_READER)
    typer.echo("")
    print_worklist(url, DEMO_READER, None, None, as_json=False)
    typer.echo("\ndemo logins (password " + repr(DEMO_PASSWORD) + "):")
    for name, role in logins:
        typer.echo(f"  {name:<20} {role}")
