"""Commands that record what happened: doses, adverse events, holds, visits, corrections."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, open_unit
from scheduler.cli.render import mg, print_json
from scheduler.core.inputs import DISCONTINUATION_REASONS
from scheduler.errors import InputError
from scheduler.kernel.actors import INVESTIGATOR_ACTIONS, NURSE_ACTIONS
from scheduler.models import VOIDABLE_KINDS
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.corrections import void_record
from scheduler.subjects.doses import record_dose
from scheduler.subjects.treatment import discontinue, hold, resume
from scheduler.subjects.visits import record_visit

Subject = Annotated[str, typer.Argument(help="Subject code")]


RECORD_ID_MAX = 2**31 - 1
"""The largest id a record can have (32-bit keys): a larger number is a typing slip."""


def dose(
    subject: Subject,
    on: Annotated[str, typer.Option("--date", help="Dosing day, YYYY-MM-DD")],
    taken: Annotated[bool, typer.Option("--taken", help="The dose was taken")] = False,
    missed: Annotated[bool, typer.Option("--missed", help="The dose was not taken")] = False,
    at: Annotated[str | None, typer.Option("--at", help="Local time taken, HH:MM")] = None,
    slot: Annotated[
        int, typer.Option("--slot", min=1, max=6, help="Administration of the day (BID: 1/2)")
    ] = 1,
    reason: Annotated[str, typer.Option("--reason", help="Needed to correct a record")] = "",
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Record a dose as taken (optionally when) or missed."""
    if taken == missed:
        raise InputError("taken", "give exactly one of --taken or --missed")
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        result = record_dose(unit, subject, on=on, taken=taken, at=at, slot=slot, reason=reason)
    s = result.slot
    late = f", {s.late_minutes} min after {s.time:%H:%M}" if s.late_minutes else ""
    verb = "corrected" if result.corrected else "recorded"
    typer.echo(f"{verb} {subject} {s.key} {s.date} {mg(s.dose_mg)}: {s.status}{late}")


def ae(
    subject: Subject,
    term: Annotated[str, typer.Option("--term", help="CTCAE term, e.g. hypertension")],
    grade: Annotated[int, typer.Option("--grade", min=1, max=5, help="CTCAE grade 1-5")],
    onset: Annotated[str, typer.Option("--onset", help="Onset date, YYYY-MM-DD")],
    related: Annotated[
        bool | None,
        typer.Option(
            "--related/--unrelated",
            help="Related to the study drug or not (required: causality is asked, never assumed)",
        ),
    ] = None,
    intolerable: Annotated[
        bool, typer.Option("--intolerable", help="Grade 2 that the subject cannot tolerate")
    ] = False,
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why a second event with the same term, grade and onset"),
    ] = "",
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record an adverse event and print the action the protocol's rule table proposes."""
    if related is None:
        raise InputError("related", "say whether the event is related to the study drug")
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        result = record_adverse_event(
            unit,
            subject,
            term=term,
            grade=grade,
            onset=onset,
            related=related,
            intolerable=intolerable,
            reason=reason,
        )
    if as_json:
        print_json(result.as_json())
        return
    p = result.proposal
    typer.echo(f"recorded adverse event {result.record.id}: {term} grade {grade} on {onset}")
    resume_at = f" (resume at {mg(p.resume_dose_mg)})" if p.resume_dose_mg else ""
    typer.echo(f"proposed action: {p.action}{resume_at} - {p.reason}")
    typer.echo("an investigator confirms it by recording a hold, resumption or discontinuation")


def hold_command(
    subject: Subject,
    start: Annotated[str, typer.Option("--from", help="First day without dosing, YYYY-MM-DD")],
    reason: Annotated[str, typer.Option("--reason", help="Why dosing is held")],
    ae_id: Annotated[
        int | None,
        typer.Option("--ae", min=1, max=RECORD_ID_MAX, help="Adverse event id behind it"),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Hold dosing from a date until it is resumed."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        plan = hold(unit, subject, start=start, reason=reason, adverse_event_id=ae_id)
    typer.echo(f"{subject} on hold from {start}; status {plan.status}")


def resume_command(
    subject: Subject,
    on: Annotated[str, typer.Option("--on", help="First day dosing again, YYYY-MM-DD")],
    dose_mg: Annotated[float | None, typer.Option("--dose-mg", help="Reduced dose level")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why, e.g. BP back to grade 1")] = "",
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Resume dosing after a hold, optionally at a lower dose level."""
    with open_unit(db, user, roles=INVESTIGATOR_ACTIONS) as unit:
        plan = resume(unit, subject, on=on, dose_mg=dose_mg, reason=reason)
    delayed = [c for c in plan.cycles if c.delay_days and c.day1 >= plan.holds[-1].start]
    typer.echo(f"{subject} resumes on {on} at {mg(plan.cycles[-1].dose_mg)}")
    for cycle in delayed[:1]:
        typer.echo(f"cycle {cycle.number} delayed {cycle.delay_days} days to {cycle.day1}")


def discontinue_command(
    subject: Subject,
    on: Annotated[str, typer.Option("--on", help="Date of discontinuation, YYYY-MM-DD")],
    reason: Annotated[str, typer.Option("--reason", help=" | ".join(DISCONTINUATION_REASONS))],
    note: Annotated[str, typer.Option("--note", help="Free-text detail")] = "",
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """End treatment permanently; remaining doses are cancelled, follow-up continues."""
    with open_unit(db, user, roles=INVESTIGATOR_ACTIONS) as unit:
        plan = discontinue(unit, subject, on=on, reason=reason, note=note)
    eot = plan.visit("EOT")
    typer.echo(f"{subject} discontinued on {on} ({reason})")
    if eot is not None:
        typer.echo(f"end-of-treatment visit {eot.target} ({eot.window_start}..{eot.window_end})")


def visit(
    subject: Subject,
    code: Annotated[str, typer.Argument(help="Visit code, e.g. C2D1")],
    on: Annotated[str, typer.Option("--on", help="Date the visit took place")],
    reason: Annotated[
        str, typer.Option("--reason", help="Deviation reason (outside the window) or correction")
    ] = "",
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Record a visit as done."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        result = record_visit(unit, subject, code, on=on, reason=reason)
    deviation = f" - deviation: {result.deviation}" if result.deviation else ""
    typer.echo(
        f"{subject} {result.code} done on {result.actual} (target {result.target}){deviation}"
    )


def void(
    subject: Subject,
    kind: Annotated[str, typer.Argument(help=" | ".join(VOIDABLE_KINDS))],
    record_id: Annotated[
        int, typer.Argument(min=1, max=RECORD_ID_MAX, help="Record id (see `dosing records`)")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why the record is wrong")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Strike out a record entered in error; it stays in the database with the reason."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        plan = void_record(unit, subject, kind, record_id, reason)
    typer.echo(f"voided {kind} {record_id} of {subject}; status {plan.status}")
