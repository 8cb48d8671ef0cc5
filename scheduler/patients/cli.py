"""The patient page on the command line: issue or withdraw a subject's private link, opt them
in or out of the "no report" worklist line, list what they reported, and review a report."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler.cli.options import DbOption, JsonOption, UserOption, open_unit
from scheduler.cli.render import print_json, table
from scheduler.errors import InputError
from scheduler.kernel.actors import ANY_ROLE, NURSE_ACTIONS
from scheduler.kernel.subject_state import subject_state
from scheduler.patients.links import issue_link, link_status, revoke_link, set_unreported_alert
from scheduler.patients.reports import report_json
from scheduler.patients.reviews import Correction, review_json, review_report
from scheduler.patients.view import panel
from scheduler.settings import get_settings

app = typer.Typer(
    help="The patient's private page: its link, the patient's reports and their review.",
    no_args_is_help=True,
)
Subject = Annotated[str, typer.Argument(help="Subject code")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail)")]


@app.command("link")
def link(
    subject: Subject,
    alert: Annotated[
        bool | None,
        typer.Option(
            "--alert-unreported/--no-alert-unreported",
            help="List the subject when a dosing day passes without a report (default: keep)",
        ),
    ] = None,
    reason: Reason = "",
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue the subject's private page link (a live one stops working) and print it once."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        issued = issue_link(unit, get_settings(), subject, alert_unreported=alert, reason=reason)
    if as_json:
        print_json({"subject": subject, "url": issued.url})
    else:
        typer.echo(issued.url)
    typer.echo("The link is shown only now (only its hash is stored).", err=True)


@app.command("revoke")
def revoke(
    subject: Subject,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail)")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Withdraw the subject's private page link: the page answers 410 from now on."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        count = revoke_link(unit, subject, reason=reason)
    typer.echo(f"withdrew {count} private page link(s) of {subject}")


@app.command("alert")
def alert_command(
    subject: Subject,
    on: Annotated[bool, typer.Option("--on/--off", help="List unreported dosing days or not")],
    reason: Reason = "",
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Opt the subject in (--on) or out (--off) of the worklist line for an unreported day."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        set_unreported_alert(unit, subject, on=on, reason=reason)
    typer.echo(f"{subject}: unreported dosing days {'listed' if on else 'not listed'}")


@app.command("reports")
def reports(
    subject: Subject, db: DbOption = None, user: UserOption = None, as_json: JsonOption = False
) -> None:
    """What the patient reported, beside the verified records, with each review."""
    with open_unit(db, user, roles=ANY_ROLE) as unit:
        state = subject_state(unit.session, subject, unit.now)
        shown = panel(unit.session, state, link_status(unit.session, subject))
    if as_json:
        print_json(
            [
                report_json(line.report)
                | {
                    "verified": line.verified,
                    "review": review_json(line.review) if line.review else None,
                }
                for line in shown.lines
            ]
        )
        return
    rows = []
    for line in shown.lines:
        r = line.report
        if r.kind == "bp":
            said = f"{r.systolic}/{r.diastolic}"
        elif r.taken:
            said = f"taken {r.taken_at:%H:%M}" if r.taken_at else "taken"
        else:
            said = "not taken"
        review = line.review.outcome if line.review else "awaiting review"
        rows.append([r.id, r.report_date, r.kind, said, line.verified, review])
    headers = ["id", "date", "kind", "reported", "verified", "review"]
    typer.echo(table(headers, rows) if rows else f"{subject}: nothing reported")
    c = shown.counts
    typer.echo(
        f"reported: {c.reported_taken} taken, {c.reported_not_taken} not taken "
        f"({c.unverified} not yet reviewed); verified: {c.verified_taken} taken, "
        f"{c.verified_missed} missed; {c.disagree} disagree"
    )


@app.command("review")
def review(
    subject: Subject,
    report: Annotated[int, typer.Argument(help="Report id (see `dosing patient reports`)")],
    correct: Annotated[
        bool, typer.Option("--correct", help="Record what was established instead")
    ] = False,
    taken: Annotated[
        bool | None, typer.Option("--taken/--not-taken", help="A corrected dose")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="A corrected dose's time, HH:MM")] = None,
    reading: Annotated[
        str | None, typer.Option("--reading", help="A corrected blood pressure, 150/95")
    ] = None,
    reason: Reason = "",
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Confirm a report (it becomes the verified record) or --correct it, with a reason."""
    if not correct and (taken is not None or at or reading):
        raise InputError("correct", "--taken, --at and --reading correct a report: add --correct")
    correction = Correction(taken=taken, at=at, reading=reading) if correct else None
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        done = review_report(unit, subject, report, correction=correction, reason=reason)
    if as_json:
        print_json(review_json(done))
        return
    made = (
        f"dose record {done.dose_record_id}"
        if done.dose_record_id
        else f"lab result {done.lab_result_id}"
    )
    typer.echo(f"{subject} report {report} {done.outcome}: {made}")
