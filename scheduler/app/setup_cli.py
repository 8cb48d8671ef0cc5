"""`dosing init` and `dosing demo`: the commands that set a database up (all features)."""

from __future__ import annotations

import typer

from scheduler.app.demo import DEMO_PASSWORD, seed_demo, seed_demo_staff
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


def demo(db: DbOption = None) -> None:
    """Set up the embedded demo (SQLite, NCT03945799, five subjects, one account per role) and
    show today's work."""
    url = database_url(db)
    upgrade(url)
    settings = get_settings()
    with unit_of_work(get_engine(url), SETUP_ACTOR, SystemClock()) as unit:
        load_shipped_protocols(unit)
        logins = seed_demo_staff(unit)
    with unit_of_work(get_engine(url), DEMO_READER, SystemClock()) as unit:
        created = seed_demo(unit, ensure_default_site(unit, settings))
    typer.echo(f"demo database: {url} ({len(created)} subjects created)\n")
    subjects_command(db=url, user=DEMO_READER)
    typer.echo("")
    print_worklist(url, DEMO_READER, None, None, as_json=False)
    typer.echo("\ndemo logins (password " + repr(DEMO_PASSWORD) + "):")
    for name, role in logins:
        typer.echo(f"  {name:<20} {role}")
