"""Appointments on the command line: book a visit (or see its free slots), the day's list of
each clinic, and a site's clinic set-up (admins)."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler.appointments.booking import book, proposals
from scheduler.appointments.clinics import find_clinic, parse_capacities, set_up_clinic
from scheduler.appointments.day_list import day_list
from scheduler.cli.options import DbOption, JsonOption, UserOption, open_unit
from scheduler.cli.render import print_json, table
from scheduler.errors import InputError
from scheduler.kernel.actors import ADMIN_ACTIONS, ANY_ROLE, NURSE_ACTIONS
from scheduler.kernel.sites import get_site
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.validation import parse_optional_date


def book_command(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    visit: Annotated[str, typer.Argument(help="Visit code, e.g. C2D1")],
    on: Annotated[str | None, typer.Option("--on", help="Date, YYYY-MM-DD")] = None,
    at: Annotated[str | None, typer.Option("--at", help="Time, HH:MM (site time)")] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Why it is booked again (needed to rebook)")
    ] = "",
    as_json: JsonOption = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Book a visit at the site's clinic; without --on, list the first free slots."""
    if (on is None) != (at is None):
        raise InputError("--at" if on is not None else "--on", "give both --on and --at")
    with open_unit(db, user, roles=NURSE_ACTIONS if on is not None else ANY_ROLE) as unit:
        if on is not None and at is not None:
            row = book(unit, subject, visit, on=on, at=at, reason=reason)
            booked = {"subject": subject, "visit_code": visit, "on": row.day,
                      "at": f"{row.start:%H:%M}", "minutes": row.minutes,
                      "replaces": row.replaces_id}  # fmt: skip
        else:
            state = subject_state(unit.session, subject, unit.now)
            slots = proposals(unit.session, state, visit, unit.settings)
    if on is not None:
        if as_json:
            print_json(booked)
        else:
            again = " (rebooked)" if booked["replaces"] is not None else ""
            typer.echo(f"{subject} {visit} booked on {booked['on']} at {booked['at']}{again}")
        return
    if as_json:
        print_json(
            {"subject": subject, "visit_code": visit,
             "slots": [{"on": s.on, "at": f"{s.at:%H:%M}", "free": s.free} for s in slots]}
        )  # fmt: skip
        return
    if not slots:
        typer.echo(f"no free day in {visit}'s window")
        return
    typer.echo(
        table(["date", "time", "places left"], [[s.on, f"{s.at:%H:%M}", s.free] for s in slots])
    )


def appointments_command(
    site: Annotated[str | None, typer.Option("--site", help="Site code")] = None,
    on: Annotated[
        str | None, typer.Option("--date", help="Day (default: today at each site)")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """The day's booked appointments, per clinic."""
    day = parse_optional_date("date", on)
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        lines = day_list(unit.session, unit.now, day, site)
    if as_json:
        print_json({"appointments": [line.as_json() for line in lines]})
        return
    if not lines:
        typer.echo("no appointments")
        return
    rows = [
        [line.site, line.day, f"{line.start:%H:%M}", line.subject, line.visit_code,
         line.visit_name, "REBOOK: visit moved" if line.stale else ""]
        for line in lines
    ]  # fmt: skip
    typer.echo(table(["site", "date", "time", "subject", "visit", "name", ""], rows))


def clinic_command(
    site: Annotated[str, typer.Argument(help="Site code")],
    open_days: Annotated[
        str | None, typer.Option("--open", help="Opening days, e.g. mon,tue,wed,thu,fri")
    ] = None,
    opens: Annotated[str | None, typer.Option("--opens", help="Opening time, HH:MM")] = None,
    closes: Annotated[str | None, typer.Option("--closes", help="Closing time, HH:MM")] = None,
    slot_minutes: Annotated[
        int | None, typer.Option("--slot-minutes", help="Length of one appointment")
    ] = None,
    capacity: Annotated[
        list[str] | None,
        typer.Option("--capacity", help="Visits a day of a type, e.g. C{cycle}D1=20 (repeat)"),
    ] = None,
    default_capacity: Annotated[
        int | None,
        typer.Option("--default-capacity", help="Visits a day of a type not named"),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Set up a site's clinic (admin): opening days, hours, capacity per visit type."""
    changing = any(
        v is not None for v in (open_days, opens, closes, slot_minutes, capacity, default_capacity)
    )
    with open_unit(db, user, roles=ADMIN_ACTIONS if changing else ANY_ROLE) as unit:
        if changing:
            view = set_up_clinic(
                unit,
                site,
                open_days=open_days,
                opens_at=opens,
                closes_at=closes,
                slot_minutes=slot_minutes,
                default_capacity=default_capacity,
                capacities=parse_capacities(capacity or []),
            )
        else:
            found = find_clinic(unit.session, get_site(unit.session, site))
            if found is None:
                raise InputError("site", f"{site} has no clinic set up yet: give --open ...")
            view = found
    if as_json:
        print_json(view.as_json())
        return
    typer.echo(
        f"{view.site} clinic: open {view.open_days}, {view.opens_at:%H:%M}-{view.closes_at:%H:%M}, "
        f"{view.slot_minutes}-minute appointments"
    )
    rows = [[kind, per_day] for kind, per_day in view.capacities.items()]
    rows.append(["any other", view.default_capacity])
    typer.echo(table(["visit type", "per day"], rows))
