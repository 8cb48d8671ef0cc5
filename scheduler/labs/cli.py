"""Labs on the command line: record a result or a blood pressure reading, list a subject's
results with their grades and baselines, and correct a baseline."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, open_unit
from scheduler.cli.render import mg as format_mg
from scheduler.cli.render import print_json, table
from scheduler.kernel.actors import ANY_ROLE, INVESTIGATOR_ACTIONS, NURSE_ACTIONS
from scheduler.kernel.subject_state import subject_state
from scheduler.labs.baselines import correct_baseline
from scheduler.labs.day1 import confirm_computed_day1, evaluate_day1
from scheduler.labs.history import labs_json, subject_labs
from scheduler.labs.results import record_result

Subject = Annotated[str, typer.Argument(help="Subject code")]


def lab(
    subject: Subject,
    test: Annotated[str, typer.Option("--test", help="Test code (ALT, ANC, ..., BP)")],
    value: Annotated[
        str, typer.Option("--value", help="Result (2+ for a dipstick, 150/95 for BP)")
    ],
    on: Annotated[str, typer.Option("--on", help="Date sampled or measured, YYYY-MM-DD")],
    unit_text: Annotated[str | None, typer.Option("--unit", help="Unit as reported")] = None,
    lln: Annotated[float | None, typer.Option("--lln", help="Lower limit of normal")] = None,
    uln: Annotated[float | None, typer.Option("--uln", help="Upper limit of normal")] = None,
    home: Annotated[bool, typer.Option("--home", help="A home blood pressure reading")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Needed to correct a result")] = "",
    as_json: JsonOption = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Record a lab result or vital sign; prints its CTCAE grade and any proposed action."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        result = record_result(
            unit,
            subject,
            test=test,
            value=value,
            unit_text=unit_text,
            on=on,
            lln=lln,
            uln=uln,
            reason=reason,
            source="home" if home else "clinic",
        )
    if as_json:
        print_json(result.as_json())
        return
    for row in result.rows:
        graded = result.grades[row.test]
        grade_text = "not graded" if graded is None else f"grade {graded}"
        typer.echo(
            f"{subject} {row.test} {row.reported} {row.unit} on {row.taken_on}: {grade_text}"
        )
    for event in result.events:
        proposal = event.proposal
        resume_at = (
            f" (resume at {format_mg(proposal.resume_dose_mg)})" if proposal.resume_dose_mg else ""
        )
        typer.echo(
            f"recorded adverse event {event.record.id}: {event.record.term} grade "
            f"{event.record.grade}; proposed action: {proposal.action}{resume_at} - "
            f"{proposal.reason}"
        )


def labs(
    subject: Subject, as_json: JsonOption = False, db: DbOption = None, user: UserOption = None
) -> None:
    """A subject's results with their CTCAE grades; * marks each test's baseline."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        found = subject_labs(unit.session, subject_state(unit.session, subject, unit.now))
    if as_json:
        print_json(labs_json(subject, found))
        return
    rows = [
        [
            r.row.id,
            r.row.taken_on,
            r.row.test + (" *" if r.is_baseline else ""),
            f"{r.row.reported} {r.row.unit}",
            _range(r.row.lln, r.row.uln),
            "" if r.grade is None else r.grade,
            r.row.source,
            r.row.adverse_event_id or "",
        ]
        for r in found.results
    ]
    typer.echo(f"{subject}: C1D1 {found.c1d1}; * marks the baseline")
    typer.echo(table(["id", "date", "test", "result", "normal", "grade", "source", "AE"], rows))


def _range(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return ""
    return f"{'' if low is None else f'{low:g}'}-{'' if high is None else f'{high:g}'}"


def baseline(
    subject: Subject,
    test: Annotated[str, typer.Option("--test", help="Test code")],
    reason: Annotated[str, typer.Option("--reason", help="Why the baseline is corrected")],
    result_id: Annotated[
        int | None,
        typer.Option("--result", min=1, max=2**31 - 1, help="Result id (omit: no baseline)"),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Correct a test's baseline: another result (see `dosing labs`), or none."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        correct_baseline(unit, subject, test=test, result_id=result_id, reason=reason)
    chosen = f"result {result_id}" if result_id is not None else "no result"
    typer.echo(f"{subject} {test.upper()} baseline is now {chosen}")


def day1(
    subject: Subject,
    cycle: Annotated[int, typer.Option("--cycle", min=1, max=200, help="Cycle number (2 on)")],
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Record the computed verdict (investigator)")
    ] = False,
    on: Annotated[
        str | None, typer.Option("--on", help="Date confirmed, YYYY-MM-DD (default: today)")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """A cycle's day-1 criteria computed from the recent results; --confirm records them."""
    with open_unit(db, user, roles=INVESTIGATOR_ACTIONS if confirm else ANY_ROLE) as unit:
        if confirm:
            evaluation, _check = confirm_computed_day1(unit, subject, cycle=cycle, on=on)
        else:
            state = subject_state(unit.session, subject, unit.now)
            evaluation = evaluate_day1(unit.session, state, cycle)
    if as_json:
        print_json(evaluation.as_json())
        return
    typer.echo(
        f"{subject} cycle {cycle} (day 1 {evaluation.day1}, results since {evaluation.since}): "
        f"{evaluation.verdict}"
    )
    for finding in evaluation.findings:
        mark = {True: "met", False: "NOT MET", None: "missing"}[finding.met]
        typer.echo(f"  {finding.code:8} {mark:8} {finding.detail}")
    if confirm:
        typer.echo(f"recorded: day-1 criteria {evaluation.verdict}")
