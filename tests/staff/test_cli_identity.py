"""The CLI writes only as an existing, active staff account with the role the web app asks for;
never as the operating-system user. The first admin of an empty database is the one exception.
Nobody deactivates their own account or the last active admin; an account can be reactivated."""

from __future__ import annotations

import pytest
from cli_runner import ACCOUNTS, PASSWORD, ensure_accounts, run
from sqlmodel import select

from scheduler.app.cli import main
from scheduler.db import get_engine
from scheduler.kernel.unit import unit_of_work
from scheduler.models import AuditEntry, StaffUser, Subject
from scheduler.staff.accounts import create_staff


@pytest.fixture
def db(db_url, capsys):
    assert run(capsys, "init", "--db", db_url)[0] == 0
    return db_url


def _enroll(capsys, db, *extra):
    argv = ("enroll", "S-001", "--c1d1", "2026-03-02", "--surgery", "2026-01-20", "--db", db)
    return run(capsys, *argv, *extra)


def _subjects(db) -> list[str]:
    with unit_of_work(get_engine(db), "reader") as unit:
        return list(unit.session.exec(select(Subject.code)))


@pytest.mark.parametrize(
    ("user", "reason"),
    [
        ("inv.wang", "'inv.wang' is not a staff account"),
        (ACCOUNTS["pharmacist"], "cli-pharmacist is a pharmacist; this needs the role nurse"),
    ],
)
def test_an_unknown_name_or_a_role_that_may_not_is_refused_and_nothing_is_stored(
    db, capsys, user, reason
):
    status, out, err = _enroll(capsys, db, "--user", user)
    assert (status, out) == (2, "")
    assert err.startswith(f"error: user: {reason}")
    assert _subjects(db) == []


def test_a_nurse_cannot_resume_at_a_reduced_dose_from_the_cli(db, capsys):
    assert _enroll(capsys, db)[0] == 0
    status, _, err = run(
        capsys,
        *("resume", "S-001", "--on", "2026-03-10", "--dose-mg", "10", "--db", db),
        *("--user", ACCOUNTS["nurse"]),
    )
    assert status == 2 and err.startswith("error: user: cli-nurse is a nurse")


def test_without_user_or_dosing_user_the_os_user_is_not_taken(db, capsys, monkeypatch):
    ensure_accounts(db)
    monkeypatch.delenv("DOSING_USER", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["enroll", "S-001", "--c1d1", "2026-03-02", "--surgery", "2026-01-20", "--db", db])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: user: name your staff account")
    assert _subjects(db) == []


def test_a_deactivated_account_is_refused_and_can_be_reactivated(db, capsys):
    nurse = ACCOUNTS["nurse"]
    ensure_accounts(db)
    assert run(capsys, "user", "deactivate", nurse, "--reason", "left", "--db", db)[0] == 0
    status, _, err = _enroll(capsys, db, "--user", nurse)
    assert status == 2 and err.startswith(f"error: user: staff account '{nurse}' is deactivated")
    status, out, _ = run(capsys, "user", "reactivate", nurse, "--reason", "back", "--db", db)
    assert (status, out) == (0, f"reactivated {nurse}\n")
    assert _enroll(capsys, db, "--user", nurse)[0] == 0
    with unit_of_work(get_engine(db), "reader") as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "staff.reactivate")
        ).one()
    assert (entry.actor, entry.reason) == (ACCOUNTS["admin"], "back")


def test_nobody_deactivates_their_own_account_or_the_last_admin(db, capsys):
    admin = ACCOUNTS["admin"]
    ensure_accounts(db)
    status, _, err = run(capsys, "user", "deactivate", admin, "--reason", "x", "--db", db)
    assert status == 2 and err.startswith("error: name: you cannot deactivate your own account")
    with unit_of_work(get_engine(db), "setup") as unit:
        create_staff(unit, "second-admin", role="admin", password=PASSWORD)
    assert run(
        capsys, "user", "deactivate", admin, "--reason", "left", "--db", db,
        "--user", "second-admin",
    )[0] == 0  # fmt: skip
    status, _, err = run(capsys, "user", "deactivate", "second-admin", "--reason", "x",
                         "--db", db, "--user", "second-admin")  # fmt: skip
    assert status == 2 and "own account" in err


def test_the_first_admin_of_an_empty_database_is_created_without_an_account(
    db, capsys, monkeypatch
):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(PASSWORD + "\n"))
    status, out, err = run(
        capsys, "user", "add", "ops.li", "--role", "nurse", "--password-stdin", "--db", db,
        accounts=False,
    )  # fmt: skip
    assert status == 2 and err.startswith("error: role: the first account")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(PASSWORD + "\n"))
    status, out, err = run(
        capsys, "user", "add", "ops.li", "--role", "admin", "--password-stdin", "--db", db,
        accounts=False,
    )  # fmt: skip
    assert (status, out) == (0, "created ops.li (admin)\n"), err
    with unit_of_work(get_engine(db), "reader") as unit:
        row = unit.session.exec(select(StaffUser)).one()
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "staff.create")
        ).one()
    assert (row.name, row.role, row.created_by, entry.actor) == (
        "ops.li", "admin", "ops.li", "ops.li",
    )  # fmt: skip
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(PASSWORD + "\n"))
    status, _, err = run(
        capsys, "user", "add", "ops.zhao", "--role", "admin", "--password-stdin", "--db", db,
        accounts=False,
    )  # fmt: skip
    assert status == 2 and err.startswith("error: user: name your staff account")
