"""`dosing init` and `dosing demo`: the commands that set a database up (all features)."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler.app.demo import DEMO_PASSWORD, reset_sqlite_file, seed_demo, seed_demo_staff
from scheduler.app.demo_records import seed_demo_pharmacy, seed_demo_reminders
from scheduler.cli.options import DbOption, UserOption, database_url
from scheduler.clock import SystemClock
from scheduler.db import get_engine
from scheduler.kernel.protocol_versions import load_shipped_protocols
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.unit import unit_of_work
from scheduler.migrate import upgrade
from scheduler.settings import get_settings
from scheduler.subjects.cli import subjects_command
from scheduler.worklist.cli import print_worklist


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


def demo(
    db: DbOption = None,
    user: UserOption = None,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset", help="Delete the demo's SQLite file first and seed it afresh as of today"
        ),
    ] = False,
) -> None:
    """Set up the embedded demo (SQLite, NCT03945799, five subjects, pharmacy records and
    reminders placed relative to today) and show today's work."""
    url = database_url(db)
    if reset:
        removed = reset_sqlite_file(url)
        typer.echo(f"removed {removed}" if removed else f"nothing to remove at {url}")
    upgrade(url)
    settings = get_settings()
    engine = get_engine(url)
    clock = SystemClock()
    actor = user or settings.user
    with unit_of_work(engine, actor, clock, settings) as unit:
        load_shipped_protocols(unit)
        site = ensure_default_site(unit, settings)
        created = seed_demo(unit, site)
        if created:
            seed_demo_pharmacy(unit)
        logins = seed_demo_staff(unit)
    if created:
        seed_demo_reminders(engine, settings, actor, clock.now())
    typer.echo(f"demo database: {url} ({len(created)} subjects created)\n")
    subjects_command(db=url, user=user)
    typer.echo("")
    print_worklist(url, user, None, None, as_json=False)
    typer.echo("\ndemo logins (password " + repr(DEMO_PASSWORD) + "):")
    for name, role in logins:
        typer.echo(f"  {name:<20} {role}")
