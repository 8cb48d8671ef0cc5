"""Login throttling (OWASP ASVS 2.2.1): growing delays per name and per address, a lockout
after ten failures in a row that the right password does not get through, every failure and
lockout audited under the typed name, and an admin who sees the lockout and lifts it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from cli_runner import add_account, run
from fastapi.testclient import TestClient
from fixed_clock import FIXED_NOW
from sqlmodel import col, select
from web_fixtures import PASSWORD, csrf_of

from scheduler.models import AuditEntry

WRONG = "not the password at all"


@dataclass
class MovingClock:
    """A clock the test moves forward: throttling is about time passing."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def advance(self, **delta: float) -> None:
        self.instant += timedelta(**delta)


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock(FIXED_NOW)


def _attempt(web_app, name, password, address="10.1.1.1"):
    client = TestClient(web_app, client=(address, 40000))
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


def _fail_until_locked(web_app, clock, name):
    """Ten wrong passwords, each made as soon as the throttle allows."""
    for _ in range(10):
        answer = _attempt(web_app, name, WRONG)
        if answer.status_code == 429:
            clock.advance(seconds=int(answer.headers["retry-after"]))
            answer = _attempt(web_app, name, WRONG)
        assert answer.status_code == 401


def test_failed_logins_slow_down_with_growing_delays_answered_429_with_retry_after(
    web_app, staff_client, clock
):
    staff_client("nurse")
    for _ in range(3):
        assert _attempt(web_app, "test-nurse", WRONG).status_code == 401
    waits = []
    for _ in range(4):
        early = _attempt(web_app, "test-nurse", PASSWORD)  # too early: not even checked
        assert early.status_code == 429 and "dosing_session" not in early.headers.get(
            "set-cookie", ""
        )
        waits.append(int(early.headers["retry-after"]))
        clock.advance(seconds=waits[-1])
        assert _attempt(web_app, "test-nurse", WRONG).status_code == 401
    assert waits == [1, 2, 4, 8]
    clock.advance(seconds=16)
    assert _attempt(web_app, "test-nurse", PASSWORD).status_code == 303


def test_ten_failures_lock_the_account_for_15_minutes_even_against_the_right_password(
    web_app, staff_client, clock
):
    staff_client("nurse")
    _fail_until_locked(web_app, clock, "test-nurse")
    locked = _attempt(web_app, "test-nurse", PASSWORD, address="10.9.9.9")
    assert locked.status_code == 429 and locked.headers["retry-after"] == "900"
    assert "locked for 15 minutes" in locked.text
    clock.advance(minutes=14)
    assert _attempt(web_app, "test-nurse", PASSWORD).status_code == 429
    clock.advance(minutes=1)
    assert _attempt(web_app, "test-nurse", PASSWORD).status_code == 303
    # The successful login forgets the failures: one slip costs nothing again.
    assert _attempt(web_app, "test-nurse", WRONG).status_code == 401
    assert _attempt(web_app, "test-nurse", PASSWORD).status_code == 303


def test_an_unknown_name_is_throttled_exactly_like_a_known_one(web_app, staff_client, clock):
    staff_client("nurse")
    answers = {}
    for name in ("test-nurse", "nobody-here"):
        _fail_until_locked(web_app, clock, name)
        locked = _attempt(web_app, name, PASSWORD, address="10.9.9.9")
        answers[name] = (locked.status_code, locked.headers["retry-after"])
    assert answers["test-nurse"] == answers["nobody-here"] == (429, "900")


def test_one_address_trying_many_names_is_slowed_down(web_app, staff_client, clock):
    staff_client("nurse")
    for number in range(10):
        assert _attempt(web_app, f"guess-{number}", WRONG).status_code == 401
    slowed = _attempt(web_app, "test-nurse", PASSWORD)
    assert slowed.status_code == 429 and slowed.headers["retry-after"] == "1"
    # The same name from another address is not held up by that address.
    assert _attempt(web_app, "test-nurse", PASSWORD, address="10.2.2.2").status_code == 303


def test_failures_and_the_lockout_are_audited_under_the_typed_name_never_the_password(
    web_app, staff_client, clock, units
):
    staff_client("nurse")
    _fail_until_locked(web_app, clock, "test-nurse")
    with units() as unit:
        entries = unit.session.exec(
            select(AuditEntry).where(
                col(AuditEntry.action).in_(("staff.login_failed", "staff.lockout"))
            )
        ).all()
    failed = [e for e in entries if e.action == "staff.login_failed"]
    assert len(failed) == 10 and {e.actor for e in failed} == {"test-nurse"}
    assert all('"address": "10.1.1.1"' in (e.new_value or "") for e in failed)
    assert [e.actor for e in entries if e.action == "staff.lockout"] == ["test-nurse"]
    assert not any(WRONG in f"{e.old_value}{e.new_value}{e.reason}" for e in entries)


def test_an_admin_sees_the_lockout_and_lifts_it_on_the_page(web_app, staff_client, clock, units):
    admin = staff_client("admin")
    staff_client("nurse")
    _fail_until_locked(web_app, clock, "test-nurse")
    page = admin.get("/admin/staff").text
    # The tenth failure came at 04:02:07 (waits of 1, 2, 4 ... 64 seconds after the third).
    assert "locked until 2026-03-02 04:17 UTC" in page
    refused = admin.form("/admin/staff/unlock", {"name": "test-nurse", "reason": " "})
    assert refused.status_code == 422 and 'id="unlock-reason-error"' in refused.text
    assert _attempt(web_app, "test-nurse", PASSWORD).status_code == 429
    lifted = admin.form(
        "/admin/staff/unlock", {"name": "test-nurse", "reason": "identity checked by phone"}
    )
    assert lifted.status_code == 200 and "locked until" not in lifted.text
    assert _attempt(web_app, "test-nurse", PASSWORD).status_code == 303
    with units() as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "staff.unlock")
        ).one()
    assert entry.actor == "test-admin" and entry.reason == "identity checked by phone"


def test_an_admin_sees_and_lifts_the_lockout_through_the_api_and_the_cli(
    web_app, staff_client, clock, db_url, capsys
):
    admin = staff_client("admin")
    staff_client("nurse")
    staff_client("investigator")
    api = TestClient(web_app, headers={"Authorization": f"Bearer {admin.token}"})
    _fail_until_locked(web_app, clock, "test-nurse")
    accounts = {a["name"]: a for a in api.get("/api/staff").json()}
    assert accounts["test-nurse"]["locked_until"] is not None
    assert accounts["test-admin"]["locked_until"] is None
    answer = api.post("/api/staff/test-nurse/unlock", json={"reason": "called the ward"})
    assert answer.status_code == 200 and answer.json()["locked_until"] is None
    again = api.post("/api/staff/test-nurse/unlock", json={"reason": "twice"})
    assert again.status_code == 409 and again.json()["error"]["field"] == "name"
    _fail_until_locked(web_app, clock, "test-investigator")
    add_account(db_url, "site-admin", "admin")
    code, out, err = run(
        capsys,
        *("user", "unlock", "test-investigator", "--reason", "new password set"),
        *("--db", db_url, "--user", "site-admin"),
    )
    assert (code, out.strip()) == (0, "unlocked test-investigator"), err
    assert _attempt(web_app, "test-investigator", PASSWORD, "10.3.3.3").status_code == 303
    code, _, err = run(capsys, "user", "unlock", "ghost", "--reason", "x", "--db", db_url)
    assert code == 2 and "no staff user 'ghost'" in err
