"""The ``dosing`` application. Errors render the same way for every command: one line on
stderr, exit status 2 for bad input (the field and the reason), 1 for anything unexpected."""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import typer
from typer._click import Command, Context, HelpFormatter

# Typer carries its own copy of click (pyproject pins the line) and raises its exceptions.
from typer._click import exceptions as click_errors
from typer._click.utils import make_default_short_help
from typer.core import TyperGroup

from scheduler.errors import InputError, ProtocolError, StorageUnavailable

COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "scheduler.app.setup_cli",
        "init",
        ("Create or upgrade the database and load the shipped protocols."),
    ),
    "demo": (
        "scheduler.app.setup_cli",
        "demo",
        (
            "Set up the embedded demo (SQLite, NCT03945799, five subjects, one account per "
            "role, pharmacy records, appointments and reminders placed relative to today) and "
            "show today's work."
        ),
    ),
    "enroll": (
        "scheduler.subjects.cli",
        "enroll_command",
        "Enroll a subject and print the start of their plan.",
    ),
    "plan": (
        "scheduler.subjects.cli",
        "plan_command",
        "Print a subject's full plan: cycles, dosing days and visits.",
    ),
    "subjects": (
        "scheduler.subjects.cli",
        "subjects_command",
        "List subjects with their treatment status and current dose.",
    ),
    "set-anchor": (
        "scheduler.subjects.cli",
        "set_anchor_command",
        ("Correct an anchor (C1D1, surgery date, time zone, dose time); the plan is re-derived."),
    ),
    "set-language": (
        "scheduler.subjects.cli",
        "set_language_command",
        "Change the language of the patient's calendar, reminders and handout (audited).",
    ),
    "records": (
        "scheduler.subjects.cli",
        "records_command",
        (
            "List what was recorded about a subject, with record ids (for `dosing void`) and "
            'the signature of each investigator\'s decision (or "awaiting signature").'
        ),
    ),
    "audit": (
        "scheduler.subjects.cli",
        "audit_command",
        ("Show a subject's audit trail: who changed what, when, and why."),
    ),
    "backup": (
        "scheduler.app.backup_cli",
        "backup",
        ("Copy the database to a new FILE while it stays in use, and check the copy."),
    ),
    "restore": (
        "scheduler.app.backup_cli",
        "restore",
        "Restore the backup FILE into an empty database (a new file).",
    ),
    "dose": (
        "scheduler.subjects.recording_cli",
        "dose",
        "Record a dose as taken (optionally when) or missed.",
    ),
    "ae": (
        "scheduler.subjects.recording_cli",
        "ae",
        ("Record an adverse event and print the action the protocol's rule table proposes."),
    ),
    "hold": (
        "scheduler.subjects.recording_cli",
        "hold_command",
        "Hold dosing from a date until it is resumed.",
    ),
    "resume": (
        "scheduler.subjects.recording_cli",
        "resume_command",
        ("Resume dosing after a hold, optionally at a lower dose level."),
    ),
    "discontinue": (
        "scheduler.subjects.recording_cli",
        "discontinue_command",
        ("End treatment permanently; remaining doses are cancelled, follow-up continues."),
    ),
    "visit": ("scheduler.subjects.recording_cli", "visit", "Record a visit as done."),
    "void": (
        "scheduler.subjects.recording_cli",
        "void",
        ("Strike out a record entered in error; it stays in the database with the reason."),
    ),
    "sign": (
        "scheduler.signatures.cli",
        "sign_command",
        (
            "Sign an investigator's decision (hold, resumption, discontinuation, day-1 "
            "criteria, or the void of one) as yourself, re-entering your password."
        ),
    ),
    "signatures": (
        "scheduler.signatures.cli",
        "signatures_command",
        "The subject's signatures and the decisions still awaiting one.",
    ),
    "signature-manifest": (
        "scheduler.signatures.cli",
        "manifest_command",
        "Write the signature manifest CSV (every signature, and whether it matches its record).",
    ),
    "lab": (
        "scheduler.labs.cli",
        "lab",
        "Record a lab result or vital sign; prints its CTCAE grade and any proposed action.",
    ),
    "labs": (
        "scheduler.labs.cli",
        "labs",
        "A subject's results with their CTCAE grades; * marks each test's baseline.",
    ),
    "baseline": (
        "scheduler.labs.cli",
        "baseline",
        "Correct a test's baseline: another result (see `dosing labs`), or none.",
    ),
    "day1": (
        "scheduler.labs.cli",
        "day1",
        "A cycle's day-1 criteria computed from the recent results; --confirm records them.",
    ),
    "eligibility": (
        "scheduler.eligibility.cli",
        "eligibility",
        "Show the eligibility checklist; with --criterion, answer it or --waive it.",
    ),
    "screen-fail": (
        "scheduler.eligibility.cli",
        "screen_fail",
        "Record a screen failure with the failing criteria; the subject does not start.",
    ),
    "screening-log": (
        "scheduler.eligibility.cli",
        "screening_log_command",
        "The screening log: screened, failed with reasons, enrolled (CONSORT).",
    ),
    "book": (
        "scheduler.appointments.cli",
        "book_command",
        "Book a visit at the site's clinic; without --on, list the first free slots.",
    ),
    "appointments": (
        "scheduler.appointments.cli",
        "appointments_command",
        "The day's booked appointments, per clinic.",
    ),
    "clinic": (
        "scheduler.appointments.cli",
        "clinic_command",
        "Set up a site's clinic (admin): opening days, hours, capacity per visit type.",
    ),
    "due": (
        "scheduler.worklist.cli",
        "due",
        ("Who is due: visits due, in window or overdue; holds; missed doses; day-1 checks."),
    ),
    "serve": (
        "scheduler.app.serve",
        "serve",
        "Serve the staff pages, the JSON API and the calendar feeds.",
    ),
    "resident": (
        "scheduler.app.resident",
        "resident",
        "Keep the commands loaded and run each `dosing` command in a fork of this process.",
    ),
    "pharmacy": (
        "scheduler.pharmacy.cli",
        "pharmacy",
        (
            "Capsules to prepare before each cycle day 1 (and mid-cycle, after a dose "
            "change), with prepare-by dates and flags; overdue cycles stay listed until "
            "dispensed or not needed."
        ),
    ),
    "criteria": (
        "scheduler.pharmacy.cli",
        "criteria",
        (
            "Confirm (or not) the protocol's day-1 criteria before a cycle starts: the "
            "cycle waits for them."
        ),
    ),
    "prepare": (
        "scheduler.pharmacy.cli",
        "prepare_command",
        (
            "Mark a cycle's capsules prepared as the plan stands (again: relabel), return"
            " them, or say why capsules that were due will not be dispensed."
        ),
    ),
    "dispense": (
        "scheduler.pharmacy.cli",
        "dispense_command",
        "Record capsules handed to the subject for a cycle.",
    ),
    "return": (
        "scheduler.pharmacy.cli",
        "return_command",
        ("Record capsules returned at the next visit, and show the cycle's reconciliation."),
    ),
    "reconcile-review": (
        "scheduler.pharmacy.cli",
        "review_command",
        ("Record that a cycle's capsule discrepancy was looked at and explained."),
    ),
    "accountability": (
        "scheduler.pharmacy.cli",
        "accountability_command",
        ("Dispensed versus returned per cycle, dose counts and relative dose intensity."),
    ),
    "export": (
        "scheduler.pharmacy.cli",
        "export_command",
        "Write an SDTM-shaped CSV (EX exposure, DA accountability, SV visits, LB labs).",
    ),
    "fhir": (
        "scheduler.pharmacy.cli",
        "fhir_command",
        "Write one subject's plan as a FHIR R4 Bundle (JSON).",
    ),
    "feed-url": (
        "scheduler.feeds.cli",
        "feed_url",
        (
            "Issue (or rotate, or revoke) the subject's calendar feed URL; prints https "
            "and webcal://."
        ),
    ),
    "staff-feed-url": (
        "scheduler.feeds.cli",
        "staff_feed_url",
        (
            "Issue a staff calendar feed URL for a site (nurses' visits or pharmacy "
            "preparation); issuing again rotates it."
        ),
    ),
    "ics": (
        "scheduler.feeds.cli",
        "ics",
        ("Write the subject's calendar (the same bytes as the patient feed) to a file or stdout."),
    ),
    "worker": (
        "scheduler.reminders.cli",
        "worker",
        ("Run the reminder jobs: send due reminders, build staff digests, follow moving plans."),
    ),
    "user": (
        "scheduler.staff.cli",
        "app",
        "Staff accounts: add, list, sites, language, unlock, deactivate, reactivate, API tokens.",
    ),
    "reminders": (
        "scheduler.reminders.cli",
        "app",
        "Reminder outbox and patient reminder choices.",
    ),
    "patient": (
        "scheduler.patients.cli",
        "app",
        "The patient's private page: its link, the patient's reports and their review.",
    ),
}
"""Each command: the module and attribute that define it (a function, or a Typer app of
subcommands) and its one-line help. A command's module is imported only when it runs, so
``dosing --help`` and a single command import only what they need (the table's help is checked
against each command's own in tests/app/test_cli_commands.py)."""


class _Commands(TyperGroup):
    """The ``dosing`` group: lists the table, loads one command when it is asked for."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in COMMANDS:
            return None
        return load_command(cmd_name)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        with formatter.section("Commands"):
            width = formatter.width - 6 - max(len(name) for name in COMMANDS)
            formatter.write_dl(
                [
                    (name, make_default_short_help(help, width))
                    for name, (_, _, help) in COMMANDS.items()
                ]
            )


def load_command(name: str) -> Command:
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    importlib.import_module("scheduler.app.bootstrap").bootstrap()
    if not isinstance(target, typer.Typer):
        single = typer.Typer(add_completion=False, rich_markup_mode=None)
        single.command(name)(target)
        target = single
    command = typer.main.get_command(target)
    command.name = name
    return command


root = _Commands(
    name="dosing",
    help="Dosing-cycle and visit scheduler for oral anticancer therapy in clinical trials.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def main(argv: list[str] | None = None) -> None:
    try:
        status = root.main(args=argv, prog_name="dosing", standalone_mode=False)
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
