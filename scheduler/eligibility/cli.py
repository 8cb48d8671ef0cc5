"""Screening on the command line: the eligibility checklist (answer, waive, show), screen
failures, and the screening log."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, open_unit
from scheduler.cli.render import print_json, table
from scheduler.eligibility.checklist import answer_criterion, checklist, waive_criterion
from scheduler.eligibility.screening import consort_counts, record_screen_failure, screening_log
from scheduler.errors import InputError
from scheduler.kernel.actors import ANY_ROLE, INVESTIGATOR_ACTIONS, NURSE_ACTIONS
from scheduler.kernel.subject_state import subject_state

Subject = Annotated[str, typer.Argument(help="Subject code")]
_MARK = {True: "met", False: "NOT MET", None: "open"}


def eligibility(
    subject: Subject,
    criterion: Annotated[str | None, typer.Option("--criterion", help="Criterion code")] = None,
    answer: Annotated[str | None, typer.Option("--answer", help="yes, no or a value")] = None,
    source: Annotated[str, typer.Option("--source", help="Source document of the answer")] = "",
    waive: Annotated[
        bool, typer.Option("--waive", help="Waive the criterion (investigator)")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why it is waived")] = "",
    as_json: JsonOption = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Show the eligibility checklist; with --criterion, answer it or --waive it."""
    if (answer is not None or waive) and criterion is None:
        raise InputError("--criterion", "name the criterion to answer or waive")
    if answer is not None and waive:
        raise InputError("--waive", "answer or waive, not both")
    with open_unit(
        db,
        user,
        roles=INVESTIGATOR_ACTIONS
        if waive
        else NURSE_ACTIONS
        if criterion is not None
        else ANY_ROLE,
    ) as unit:
        if criterion is not None and answer is not None:
            answer_criterion(unit, subject, criterion=criterion, answer=answer, source=source)
        elif criterion is not None and waive:
            waive_criterion(unit, subject, criterion=criterion, reason=reason)
        elif criterion is not None:
            raise InputError("--answer", "give --answer or --waive with --criterion")
        lines = checklist(unit.session, subject_state(unit.session, subject, unit.now))
    if as_json:
        print_json({"subject": subject, "criteria": [line.as_json() for line in lines]})
        return
    rows = [
        [
            line.criterion.code,
            line.criterion.kind,
            _MARK[line.met] + (" (waived)" if line.waiver is not None else ""),
            line.answer,
            line.source,
            line.criterion.text,
        ]
        for line in lines
    ]
    typer.echo(table(["criterion", "kind", "status", "answer", "source", "text"], rows))


def screen_fail(
    subject: Subject,
    on: Annotated[str, typer.Option("--on", help="Date, YYYY-MM-DD")],
    reason: Annotated[str, typer.Option("--reason", help="Why the subject will not start")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Record a screen failure with the failing criteria; the subject does not start."""
    with open_unit(db, user, roles=INVESTIGATOR_ACTIONS) as unit:
        row = record_screen_failure(unit, subject, on=on, reason=reason)
    typer.echo(f"{subject} screen failure on {row.failed_on}: {row.criteria or 'no criteria'}")


def screening_log_command(
    site: Annotated[str | None, typer.Option("--site", help="Site code")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """The screening log: screened, failed with reasons, enrolled (CONSORT)."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        lines = screening_log(unit.session, unit.now, site_code=site)
    counts = consort_counts(lines)
    if as_json:
        print_json(
            {
                "counts": counts,
                "subjects": [
                    {
                        "subject": x.subject,
                        "site": x.site,
                        "outcome": x.outcome,
                        "date": x.day,
                        "detail": x.detail,
                    }
                    for x in lines
                ],
            }
        )
        return
    rows = [[x.subject, x.site, x.outcome, x.day or "", x.detail] for x in lines]
    typer.echo(table(["subject", "site", "outcome", "date", "detail"], rows))
    failed = ", ".join(f"{k} {v}" for k, v in counts["failed_by_criterion"].items())
    typer.echo(
        f"screened {counts['screened']}, failed {counts['failed']}"
        + (f" ({failed})" if failed else "")
        + f", withdrawn {counts['withdrawn']}, enrolled {counts['enrolled']}, "
        f"still screening {counts['screening']}"
    )
