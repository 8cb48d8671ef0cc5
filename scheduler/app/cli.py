"""The ``dosing`` application. Errors render the same way for every command: one line on
stderr, exit status 2 for bad input (the field and the reason), 1 for anything unexpected."""

from __future__ import annotations

import os
import sys
import traceback

import typer

# Typer carries its own copy of click (pyproject pins the line) and raises its exceptions.
from typer._click import exceptions as click_errors

from scheduler.app import backup_cli, serve, setup_cli
from scheduler.app.bootstrap import bootstrap
from scheduler.eligibility import cli as eligibility
from scheduler.errors import InputError, ProtocolError, StorageUnavailable
from scheduler.feeds import cli as feeds
from scheduler.labs import cli as labs
from scheduler.pharmacy import cli as pharmacy
from scheduler.reminders import cli as reminders
from scheduler.staff import cli as users
from scheduler.subjects import cli as subjects
from scheduler.subjects import recording_cli as recording
from scheduler.worklist import cli as worklist

app = typer.Typer(
    name="dosing",
    help="Dosing-cycle and visit scheduler for oral anticancer therapy in clinical trials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("init")(setup_cli.init)
app.command("demo")(setup_cli.demo)
app.command("enroll")(subjects.enroll_command)
app.command("plan")(subjects.plan_command)
app.command("subjects")(subjects.subjects_command)
app.command("set-anchor")(subjects.set_anchor_command)
app.command("records")(subjects.records_command)
app.command("audit")(subjects.audit_command)
app.command("backup")(backup_cli.backup)
app.command("restore")(backup_cli.restore)
app.command("dose")(recording.dose)
app.command("ae")(recording.ae)
app.command("hold")(recording.hold_command)
app.command("resume")(recording.resume_command)
app.command("discontinue")(recording.discontinue_command)
app.command("visit")(recording.visit)
app.command("void")(recording.void)
app.command("due")(worklist.due)
app.command("serve")(serve.serve)
app.command("pharmacy")(pharmacy.pharmacy)
app.command("criteria")(pharmacy.criteria)
app.command("prepare")(pharmacy.prepare_command)
app.command("dispense")(pharmacy.dispense_command)
app.command("return")(pharmacy.return_command)
app.command("reconcile-review")(pharmacy.review_command)
app.command("accountability")(pharmacy.accountability_command)
app.command("export")(pharmacy.export_command)
app.command("fhir")(pharmacy.fhir_command)
app.command("lab")(labs.lab)
app.command("labs")(labs.labs)
app.command("baseline")(labs.baseline)
app.command("day1")(labs.day1)
app.command("eligibility")(eligibility.eligibility)
app.command("screen-fail")(eligibility.screen_fail)
app.command("screening-log")(eligibility.screening_log_command)
app.command("feed-url")(feeds.feed_url)
app.command("staff-feed-url")(feeds.staff_feed_url)
app.command("ics")(feeds.ics)
app.add_typer(users.app, name="user")
app.command("worker")(reminders.worker)
app.add_typer(reminders.app, name="reminders")


def main(argv: list[str] | None = None) -> None:
    bootstrap()
    command = typer.main.get_command(app)
    try:
        status = command.main(args=argv, prog_name="dosing", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except click_errors.NoArgsIsHelpError:
        sys.exit(2)  # the help has been shown
    except click_errors.UsageError as exc:
        # Typer's own check of the command line (a missing option, a number that is not one,
        # an unknown option): bad input like any other, one line naming the parameter.
        typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(2)
    except click_errors.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except (InputError, ProtocolError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except StorageUnavailable as exc:
        typer.echo(f"error: nothing was stored: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # an outage or a bug: say so, exit 1
        if os.environ.get("DOSING_DEBUG"):
            traceback.print_exc()
        typer.echo(f"error: unexpected {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    if isinstance(status, int) and status:
        sys.exit(status)  # a command's ``typer.Exit(code)``: Click returns it when not standalone
