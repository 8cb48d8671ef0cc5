"""`dosing worker` and `dosing reminders ...`: the reminder worker, the outbox, patient choices."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from sqlmodel import Session

from scheduler.cli.options import DbOption, JsonOption, UserOption, database_url, open_unit
from scheduler.cli.render import print_json, table
from scheduler.clock import SystemClock
from scheduler.kernel.actors import NURSE_ACTIONS
from scheduler.migrate import require_current
from scheduler.reminders.erasure import erase_contact_details
from scheduler.reminders.jobs import ReminderJobs
from scheduler.reminders.outbox import outbox_status, set_preference
from scheduler.settings import get_settings

app = typer.Typer(help="Reminder outbox and patient reminder choices.", no_args_is_help=True)


def worker(
    db: DbOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Send what is due now, then exit (no scheduler)")
    ] = False,
) -> None:
    """Run the reminder jobs: send due reminders, build staff digests, follow moving plans."""
    settings = get_settings().model_copy(update={"database_url": database_url(db)})
    engine = require_current(settings.database_url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    jobs = ReminderJobs(engine, settings, SystemClock())
    if once:
        try:
            outcome = jobs.dispatcher.run_once()
        finally:
            jobs.dispatcher.close()
        typer.echo(", ".join(f"{k} {v}" for k, v in sorted(outcome.items())) or "nothing due")
        return
    stopping = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stopping.set())
    jobs.start()
    try:
        stopping.wait()
    finally:
        jobs.stop()


@app.command("status")
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Reminders per status, and the failures with their last error."""
    with Session(require_current(database_url(db))) as session:
        report = outbox_status(session)
    if as_json:
        print_json(
            {
                "counts": report.counts,
                "next_due": report.next_due,
                "failures": report.failures,
            }
        )
        return
    typer.echo(table(["status", "count"], list(report.counts.items())))
    if report.next_due is not None:
        typer.echo(f"\nnext pending: {report.next_due:%Y-%m-%d %H:%M} UTC")
    if report.failures:
        rows = [
            [
                f.id,
                f.state,
                f.kind,
                f.owner,
                f.item_key,
                f.channel,
                f.attempts,
                f"{f.next_attempt_at:%Y-%m-%d %H:%M}" if f.status == "pending" else "",
                f.last_error,
            ]
            for f in report.failures
        ]
        typer.echo("\nfailures (retrying or given up):")
        headers = ["id", "state", "kind", "for", "item", "channel", "tries", "next try (UTC)"]
        typer.echo(table([*headers, "last error"], rows))


@app.command("opt-in")
def opt_in(
    subjects: Annotated[list[str], typer.Argument(help="Subject code(s)")],
    channel: Annotated[str, typer.Option("--channel", help="email, sms, webhook or console")],
    address: Annotated[str, typer.Option("--address", help="Email, E.164 phone or label")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Send reminders to these subjects: doses on each dosing day, the day before each visit."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        for code in subjects:
            set_preference(unit, code, opted_in=True, channel=channel, address=address)
    typer.echo(f"reminders on for {', '.join(subjects)} by {channel}")


@app.command("opt-out")
def opt_out(
    subjects: Annotated[list[str], typer.Argument(help="Subject code(s)")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Stop reminders for these subjects; pending ones are cancelled."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        for code in subjects:
            set_preference(unit, code, opted_in=False)
    typer.echo(f"reminders off for {', '.join(subjects)}")


@app.command("erase-contact")
def erase_contact(
    subject: Annotated[str, typer.Argument(help="Subject code")],
    reason: Annotated[str, typer.Option("--reason", help="Why (audited), e.g. consent withdrawn")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Erase the subject's reminder address (email or phone) everywhere it is stored, keeping
    the clinical record; reminders stop. The audit trail records the erasure, not the values."""
    with open_unit(db, user, roles=NURSE_ACTIONS) as unit:
        rows = erase_contact_details(unit, subject, reason=reason)
    typer.echo(f"contact details of {subject} erased (preference and {rows} reminder rows)")
