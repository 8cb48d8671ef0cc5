"""Running ``dosing`` in-process the way a script would, for the CLI tests.

Every CLI command acts as a real, active staff account (``--user`` or DOSING_USER). Unless a
test names one, ``run`` acts as a test account of the role the web app asks for the same
action: the admin for ``dosing user ...``, the pharmacist for the pharmacy's records, the
investigator (who may also do what a nurse does) for the rest. The accounts are created in the
test's database the first time a command runs on it after ``dosing init``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from scheduler.app.cli import main
from scheduler.db import get_engine
from scheduler.kernel.unit import unit_of_work
from scheduler.models import StaffUser
from scheduler.staff.accounts import create_staff

PASSWORD = "correct horse battery staple"
"""The password of every test account (the web fixtures use the same)."""
ACCOUNTS = {role: f"cli-{role}" for role in ("admin", "investigator", "nurse", "pharmacist")}
"""The test account of each role (the web fixtures' accounts are ``test-<role>``)."""
PHARMACY_WRITES = {"prepare", "dispense", "return", "reconcile-review"}
NO_ACCOUNT = {"init", "demo", "backup", "restore", "serve", "worker", "ics"}
"""Set-up and operator commands that act as no staff account, and the feed file (a read)."""


def account_for(argv: tuple[str, ...]) -> str:
    """The test account whose role the web app asks for the command ``argv``."""
    command = argv[0] if argv else ""
    if command == "user":
        return ACCOUNTS["admin"]
    if command in PHARMACY_WRITES:
        return ACCOUNTS["pharmacist"]
    return ACCOUNTS["investigator"]


def add_account(url: str, name: str, role: str, sites: tuple[str, ...] = ()) -> None:
    """A real staff account ``name`` in the database at ``url``, for a test that acts as it."""
    engine = get_engine(url)
    try:
        with unit_of_work(engine, "setup") as unit:
            create_staff(unit, name, role=role, password=PASSWORD, sites=sites)
    finally:
        engine.dispose()


def ensure_accounts(url: str) -> None:
    """The test accounts in the database at ``url``, once it has been set up. They are set up
    without audit entries, so that a test counting entries counts only its own."""
    engine = get_engine(url)
    try:
        if not inspect(engine).has_table("staffuser"):
            return
    except OperationalError:
        return  # no database there: the command itself says so
    try:
        with unit_of_work(engine, "setup") as unit:
            existing = set(unit.session.exec(select(StaffUser.name)).all())
            for role, name in ACCOUNTS.items():
                if name not in existing:
                    create_staff(unit, name, role=role, password=PASSWORD)
            unit.audit_entries.clear()
    finally:
        engine.dispose()


def _option(argv: tuple[str, ...], name: str) -> str | None:
    for index, value in enumerate(argv[:-1]):
        if value == name:
            return argv[index + 1]
    return None


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, accounts: bool = True
) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``dosing *argv`` (``main`` always exits). Without
    ``--user`` in ``argv`` the command acts as the test account of its role (created first,
    unless ``accounts`` is False: a test of a database without staff)."""
    full = list(argv)
    db = _option(argv, "--db")
    operator = argv[:2] == ("reminders", "status")
    if accounts and argv and argv[0] not in NO_ACCOUNT and not operator and "--help" not in argv:
        if db is not None:
            ensure_accounts(db)
        if "--user" not in argv:
            full += ["--user", account_for(argv)]
    with pytest.raises(SystemExit) as exit_info:
        main(full)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err
