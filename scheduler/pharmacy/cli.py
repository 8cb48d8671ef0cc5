"""The pharmacy on the command line: the preparation list (a table, JSON or CSV, same rows),
day-1 criteria checks, preparation, dispensing, returns and their reconciliation.

The CSV is one table, a row per preparation and nothing else, so a spreadsheet or a script
reads it as it is; the totals per strength go to their own file (``--totals``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, open_unit
from scheduler.cli.render import print_json, table, write_file
from scheduler.core.accountability import relative_dose_intensity
from scheduler.errors import InputError
from scheduler.kernel.actors import ANY_ROLE, INVESTIGATOR_ACTIONS, PHARMACY_ACTIONS
from scheduler.kernel.subject_state import get_subject, plan_for
from scheduler.kernel.validation import parse_optional_date
from scheduler.labs.sdtm_lb import LB, lb_csv
from scheduler.patients.counts import dose_report_counts
from scheduler.pharmacy.accountability import (
    confirm_day1,
    dispense,
    mark_not_needed,
    prepare,
    reconciliation_for,
    record_return,
    return_to_stock,
    review,
)
from scheduler.pharmacy.fhir_export import subject_bundle_json
from scheduler.pharmacy.preparation_csv import (
    HEADERS,
    TOTAL_HEADERS,
    cells,
    preparation_csv,
    total_rows,
    totals_csv,
)
from scheduler.pharmacy.preparation_list import preparation_list
from scheduler.pharmacy.sdtm import export_csv
from scheduler.settings import get_settings


def pharmacy(
    start: Annotated[
        str | None, typer.Option("--from", help="First prepare-by day (default: today)")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last prepare-by day (default: 6 days after --from)")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Site code")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table")] = False,
    totals_file: Annotated[
        Path | None,
        typer.Option("--totals", help="With --csv: write the totals per strength to this file"),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Capsules to prepare before each cycle day 1 (and mid-cycle, after a dose change), with
    prepare-by dates and flags; overdue cycles stay listed until dispensed or not needed."""
    if as_json and as_csv:
        raise InputError("--csv", "choose one of --json and --csv")
    if totals_file is not None and not as_csv:
        raise InputError("--totals", "the totals file goes with --csv")
    first = parse_optional_date("from", start)
    last = parse_optional_date("to", end)
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        result = preparation_list(
            unit.session,
            unit.now,
            site_code=site,
            start=first,
            end=last,
            holidays=get_settings().site_holidays,
        )
    if as_json:
        print_json(result)
    elif as_csv:
        typer.echo(preparation_csv(result), nl=False)
        if totals_file is not None:
            write_file("totals", totals_file, totals_csv(result))
    elif not result.rows:
        typer.echo(f"nothing to prepare {result.start}..{result.end}")
    else:
        typer.echo(table(HEADERS, [cells(row) for row in result.rows]))
        if result.totals:
            typer.echo("\nto prepare, per strength:")
            typer.echo(table(TOTAL_HEADERS, total_rows(result)))


Subject = Annotated[str, typer.Argument(help="Subject code")]
Cycle = Annotated[int, typer.Option("--cycle", help="Cycle number")]
Reason = Annotated[str, typer.Option("--reason", help="Why (required for a correction)")]


def criteria(
    subject: Subject,
    cycle: Cycle,
    met: Annotated[
        bool, typer.Option("--met/--not-met", help="Whether the day-1 criteria were met")
    ],
    reason: Reason = "",
    on: Annotated[
        str | None,
        typer.Option("--on", help="Date assessed, YYYY-MM-DD (default: today at the site)"),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Confirm (or not) the protocol's day-1 criteria before a cycle starts: the cycle waits
    for them."""
    with open_unit(db, user, roles=INVESTIGATOR_ACTIONS) as unit:
        check = confirm_day1(unit, subject, cycle=cycle, met=met, reason=reason, on=on)
        plan = plan_for(unit.session, subject, unit.now)
    verdict = "met" if met else "not met"
    typer.echo(f"{subject} cycle {cycle} day-1 criteria {verdict} on {check.assessed_on}")
    waiting = plan.waiting_for_criteria()
    planned = plan.cycles[cycle - 1]
    if waiting is not None and waiting.cycle == cycle:
        typer.echo(f"cycle {cycle} waits until they are met")
    elif planned.delay_days and not planned.tentative:
        typer.echo(f"cycle {cycle} starts on {planned.day1}, {planned.delay_days} days late")


def prepare_command(
    subject: Subject,
    cycle: Cycle,
    reason: Reason = "",
    return_to_stock_: Annotated[
        bool, typer.Option("--return-to-stock", help="Put prepared capsules back into stock")
    ] = False,
    not_needed: Annotated[
        bool,
        typer.Option("--not-needed", help="The capsules due will not be dispensed (--reason)"),
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Mark a cycle's capsules prepared as the plan stands (again: relabel), return them, or
    say why capsules that were due will not be dispensed."""
    if return_to_stock_ and not_needed:
        raise InputError("--not-needed", "choose one of --return-to-stock and --not-needed")
    with open_unit(db, user, roles=PHARMACY_ACTIONS) as unit:
        if not_needed:
            waived = mark_not_needed(unit, subject, cycle=cycle, reason=reason)
            typer.echo(
                f"{subject} cycle {cycle}: capsules due {waived.needed_on} marked not needed"
            )
            return
        if return_to_stock_:
            rows = return_to_stock(unit, subject, cycle=cycle, reason=reason)
        else:
            rows = prepare(unit, subject, cycle=cycle, reason=reason)
    for row in rows:
        typer.echo(
            f"{subject} cycle {cycle}: {row.capsule_count} x {row.strength_mg:g} mg {row.action}"
        )


def dispense_command(
    subject: Subject,
    cycle: Cycle,
    on: Annotated[str, typer.Option("--date", help="Day dispensed, YYYY-MM-DD")],
    strength: Annotated[float, typer.Option("--strength", help="Capsule strength, mg")],
    count: Annotated[int, typer.Option("--count", help="Capsules dispensed")],
    lot: Annotated[str, typer.Option("--lot", help="Lot number")],
    expiry: Annotated[str, typer.Option("--expiry", help="Lot expiry date, YYYY-MM-DD")],
    reason: Reason = "",
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Record capsules handed to the subject for a cycle."""
    with open_unit(db, user, roles=PHARMACY_ACTIONS) as unit:
        dispense(
            unit,
            subject,
            cycle=cycle,
            on=on,
            strength=strength,
            count=count,
            lot=lot,
            expiry=expiry,
            reason=reason,
        )
    typer.echo(f"{subject} cycle {cycle}: {count} x {strength:g} mg dispensed (lot {lot})")


def return_command(
    subject: Subject,
    cycle: Cycle,
    on: Annotated[str, typer.Option("--date", help="Day counted, YYYY-MM-DD")],
    strength: Annotated[float, typer.Option("--strength", help="Capsule strength, mg")],
    count: Annotated[int, typer.Option("--count", help="Capsules brought back")],
    reason: Reason = "",
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Record capsules returned at the next visit, and show the cycle's reconciliation."""
    with open_unit(db, user, roles=PHARMACY_ACTIONS) as unit:
        record_return(
            unit, subject, cycle=cycle, on=on, strength=strength, count=count, reason=reason
        )
        lines = reconciliation_for(unit.session, subject, unit.now)
    for line in lines:
        if line.cycle == cycle and line.strength_mg == strength:
            typer.echo(
                f"{subject} cycle {cycle}: {line.dispensed} dispensed, {line.returned} returned, "
                f"{line.expected_return} expected; discrepancy {line.discrepancy}"
            )


def review_command(
    subject: Subject,
    cycle: Cycle,
    note: Annotated[str, typer.Option("--note", help="What explains the discrepancy")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Record that a cycle's capsule discrepancy was looked at and explained."""
    with open_unit(db, user, roles=PHARMACY_ACTIONS) as unit:
        review(unit, subject, cycle=cycle, note=note)
    typer.echo(f"{subject} cycle {cycle}: discrepancy reviewed")


def accountability_command(
    subject: Subject,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dispensed versus returned per cycle, dose counts and relative dose intensity."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        lines = reconciliation_for(unit.session, subject, unit.now)
        plan = plan_for(unit.session, subject, unit.now)
        summary = relative_dose_intensity(plan)
        reported = dose_report_counts(
            unit.session, plan, get_subject(unit.session, subject).id or 0
        )
    if as_json:
        print_json({"reconciliation": lines, "doses": summary, "reports": reported})
        return
    rows = [
        [
            r.cycle,
            f"{r.strength_mg:g}",
            r.dispensed,
            r.returned,
            r.expected_return,
            r.discrepancy,
            "yes" if r.reviewed else "",
        ]
        for r in lines
    ]
    headers = ["cycle", "strength_mg", "dispensed", "returned", "expected", "discrepancy"]
    typer.echo(table([*headers, "reviewed"], rows) if rows else "nothing dispensed")
    rdi = summary.relative_dose_intensity
    typer.echo(
        f"doses: {summary.planned} planned, {summary.taken} taken, {summary.missed} missed, "
        f"{summary.held} held; relative dose intensity "
        f"{'n/a' if rdi is None else f'{rdi:.1%}'}"
    )
    typer.echo(
        f"patient reports: {reported.reported_taken} taken, {reported.reported_not_taken} not "
        f"taken, {reported.unverified} not yet reviewed; verified: {reported.verified_taken} "
        f"taken, {reported.verified_missed} missed; {reported.disagree} disagree"
    )


def export_command(
    domain: Annotated[str, typer.Argument(help="SDTM domain: ex, da, sv or lb")],
    site: Annotated[str | None, typer.Option("--site", help="Site code")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file")] = None,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Write an SDTM-shaped CSV (EX exposure, DA accountability, SV visits, LB labs)."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        if domain.lower() == LB:
            text = lb_csv(unit.session, unit.now, site_code=site)
        else:
            text = export_csv(unit.session, unit.now, domain, site_code=site)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_file("out", out, text)
        typer.echo(f"wrote {len(text.splitlines()) - 1} {domain.upper()} rows to {out}")


def fhir_command(
    subject: Subject,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file")] = None,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Write one subject's plan as a FHIR R4 Bundle (JSON)."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        text = subject_bundle_json(unit.session, subject, unit.now)
    if out is None:
        typer.echo(text)
    else:
        write_file("out", out, text + "\n")
        typer.echo(f"wrote the FHIR bundle for {subject} to {out}")
