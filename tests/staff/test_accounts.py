"""Staff accounts on SQLite and PostgreSQL: argon2 hashes, sessions and API tokens that are
stored only as digests, deactivation that ends both at once, and every change audited."""

import io
from datetime import timedelta

import pytest
from cli_runner import add_account
from sqlmodel import select

from scheduler.errors import Conflict, InputError
from scheduler.models import ApiToken, AuditEntry, StaffSession, StaffUser
from scheduler.staff.accounts import (
    SESSION_LIFETIME,
    create_staff,
    deactivate,
    issue_api_token,
    session_staff,
    start_session,
    token_staff,
    verify_password,
)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def nurse(units):
    with units("admin") as unit:
        return create_staff(unit, "li.na", role="nurse", password=PASSWORD)


def test_a_password_is_stored_as_an_argon2_hash_and_verifies(units, nurse):
    with units() as unit:
        row = unit.session.exec(select(StaffUser)).one()
        assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
        assert verify_password(unit.session, "li.na", PASSWORD) == nurse
        assert verify_password(unit.session, "li.na", PASSWORD + "x") is None
        assert verify_password(unit.session, "nobody", PASSWORD) is None


def test_creating_an_account_is_audited_without_the_password(units, nurse):
    with units() as unit:
        entry = unit.session.exec(select(AuditEntry).where(AuditEntry.action == "staff.create"))
        entry = entry.one()
    assert entry.actor == "admin" and '"role": "nurse"' in (entry.new_value or "")
    assert PASSWORD not in (entry.new_value or "")


@pytest.mark.parametrize(
    ("name", "role", "password", "field"),
    [
        ("li.na", "surgeon", PASSWORD, "role"),
        ("li na", "nurse", PASSWORD, "name"),
        ("li.na", "nurse", "short", "password"),
    ],
)
def test_a_bad_account_is_refused_naming_the_field(units, name, role, password, field):
    with pytest.raises(InputError) as refused, units() as unit:
        create_staff(unit, name, role=role, password=password)
    assert refused.value.field == field


def test_a_name_is_taken_once(units, nurse):
    with pytest.raises(Conflict), units() as unit:
        create_staff(unit, "li.na", role="investigator", password=PASSWORD)


def test_a_session_token_is_stored_as_a_digest_and_expires_after_a_shift(units, nurse, clock):
    with units() as unit:
        login = start_session(unit, nurse)
    with units() as unit:
        row = unit.session.exec(select(StaffSession)).one()
        assert login.token not in row.token_sha256
        assert session_staff(unit.session, login.token, clock.now()) == (nurse, login.csrf_token)
        later = clock.now() + SESSION_LIFETIME + timedelta(seconds=1)
        assert session_staff(unit.session, login.token, later) is None
        assert session_staff(unit.session, "forged", clock.now()) is None


def test_deactivating_ends_sessions_and_revokes_tokens_at_once(units, nurse, clock):
    with units() as unit:
        login = start_session(unit, nurse)
        token = issue_api_token(unit, "li.na", label="lab system")
    with units() as unit:
        assert token_staff(unit.session, token, clock.now()) == nurse
        assert token not in unit.session.exec(select(ApiToken)).one().token_sha256
    with units("admin") as unit:
        deactivate(unit, "li.na", reason="left the unit")
    with units() as unit:
        assert token_staff(unit.session, token, clock.now()) is None
        assert session_staff(unit.session, login.token, clock.now()) is None
        assert verify_password(unit.session, "li.na", PASSWORD) is None
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "staff.deactivate")
        ).one()
    assert entry.reason == "left the unit"


def test_deactivating_needs_a_reason(units, nurse):
    with pytest.raises(InputError) as refused, units() as unit:
        deactivate(unit, "li.na", reason=" ")
    assert refused.value.field == "reason"


def _dosing(capsys, monkeypatch, *argv, stdin=""):
    from scheduler.app.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err


def test_dosing_user_add_creates_an_account_that_logs_in(units, db_url, capsys, monkeypatch):
    add_account(db_url, "site-admin", "admin")
    code, out, err = _dosing(
        capsys,
        monkeypatch,
        *("user", "add", "wang.fang", "--role", "investigator", "--password-stdin"),
        *("--db", db_url, "--user", "site-admin"),
        stdin=PASSWORD + "\n",
    )
    assert (code, out.strip()) == (0, "created wang.fang (investigator)"), err
    with units() as unit:
        staff = verify_password(unit.session, "wang.fang", PASSWORD)
        entry = unit.session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "staff.create", AuditEntry.entity_id == staff.id
            )
        )
        actor = entry.one().actor
    assert staff is not None and staff.role == "investigator" and actor == "site-admin"
    code, out, _ = _dosing(
        capsys, monkeypatch, "user", "token", "wang.fang", "--db", db_url, "--user", "site-admin"
    )
    with units() as unit:
        assert code == 0 and token_staff(unit.session, out.strip(), unit.now) == staff


def test_dosing_user_add_refuses_an_unknown_role_naming_it(units, db_url, capsys, monkeypatch):
    code, _, err = _dosing(
        capsys,
        monkeypatch,
        *("user", "add", "wang.fang", "--role", "surgeon", "--password-stdin", "--db", db_url),
        stdin=PASSWORD + "\n",
    )
    assert code == 2 and "role" in err and "'surgeon' is not a role" in err
    with units() as unit:
        assert unit.session.exec(select(StaffUser)).all() == []
