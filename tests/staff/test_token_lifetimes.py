"""API tokens expire (90 days unless issued for fewer), are listed per account with their last
use, and are revoked one by one, each revocation audited."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from cli_runner import add_account, run
from fastapi.testclient import TestClient
from fixed_clock import FIXED_NOW
from sqlmodel import col, select

from scheduler.models import ApiToken, AuditEntry
from scheduler.staff.accounts import issue_api_token, token_staff


@dataclass
class MovingClock:
    instant: datetime

    def now(self) -> datetime:
        return self.instant


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock(FIXED_NOW)


def _api(web_app, token):
    return TestClient(web_app, headers={"Authorization": f"Bearer {token}"})


def test_a_token_lasts_90_days_unless_issued_for_fewer(web_app, staff_client, units, clock):
    staff_client("nurse")
    with units("admin") as unit:
        default = issue_api_token(unit, "test-nurse", label="lab system")
        short = issue_api_token(unit, "test-nurse", label="one-off", days=1)
        expiries = [t.expires_at for t in unit.session.exec(select(ApiToken)).all()][-2:]
    assert expiries == [FIXED_NOW + timedelta(days=90), FIXED_NOW + timedelta(days=1)]
    assert _api(web_app, short).get("/api/subjects/DEMO-001/plan").status_code == 200
    clock.instant = FIXED_NOW + timedelta(days=1)
    expired = _api(web_app, short).get("/api/subjects/DEMO-001/plan")
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["reason"]
    assert _api(web_app, default).get("/api/subjects/DEMO-001/plan").status_code == 200
    clock.instant = FIXED_NOW + timedelta(days=90)
    assert _api(web_app, default).get("/api/subjects/DEMO-001/plan").status_code == 401
    with units() as unit:
        assert token_staff(unit.session, default, clock.instant) is None


def test_a_lifetime_outside_1_to_365_days_is_refused_naming_days(web_app, staff_client, units):
    admin = _api(web_app, staff_client("admin").token)
    staff_client("nurse")
    with units() as unit:
        before = len(unit.session.exec(select(ApiToken)).all())
    for days in (0, 366):
        answer = admin.post("/api/staff/test-nurse/tokens", json={"days": days})
        assert answer.status_code == 422 and answer.json()["error"]["field"] == "days"
    page = staff_client("admin").form("/admin/staff/token", {"name": "test-nurse", "days": "0"})
    assert page.status_code == 422 and 'id="token-days-error"' in page.text
    with units() as unit:
        assert len(unit.session.exec(select(ApiToken)).all()) == before


def test_tokens_are_listed_per_account_with_their_last_use(
    web_app, staff_client, clock, db_url, capsys
):
    admin = _api(web_app, staff_client("admin").token)
    nurse = staff_client("nurse")
    issued = admin.post("/api/staff/test-nurse/tokens", json={"label": "ward pc", "days": 30})
    assert issued.status_code == 201
    new = issued.json()
    assert new["expires_at"].startswith("2026-04-01") and new["id"] > 0
    listed = {t["id"]: t for t in admin.get("/api/staff/test-nurse/tokens").json()}
    assert listed[new["id"]]["last_used_at"] is None and "token" not in listed[new["id"]]
    clock.instant = FIXED_NOW + timedelta(hours=2)
    assert _api(web_app, new["token"]).get("/api/worklist").status_code == 200
    listed = {t["id"]: t for t in admin.get("/api/staff/test-nurse/tokens").json()}
    assert listed[new["id"]]["last_used_at"].startswith("2026-03-02T06:00")
    assert listed[new["id"]]["label"] == "ward pc" and len(listed) == 2  # the fixture's, too
    page = staff_client("admin").get("/admin/staff").text
    row = re.search(rf'<tr id="token-{new["id"]}">.*?</tr>', page, re.S).group(0)
    assert "ward pc" in row and "2026-04-01" in row and "2026-03-02 06:00 UTC" in row
    code, out, err = run(capsys, "user", "tokens", "test-nurse", "--json", "--db", db_url)
    assert code == 0, err
    assert '"label": "ward pc"' in out and nurse.token not in out and new["token"] not in out


def test_revoking_one_token_stops_it_and_leaves_the_others(
    web_app, staff_client, units, db_url, capsys
):
    admin = _api(web_app, staff_client("admin").token)
    nurse = staff_client("nurse")
    second = admin.post("/api/staff/test-nurse/tokens", json={"label": "second"}).json()
    answer = admin.post(
        f"/api/staff/test-nurse/tokens/{second['id']}/revoke", json={"reason": "pc stolen"}
    )
    assert answer.status_code == 200 and answer.json()["revoked_at"] is not None
    assert _api(web_app, second["token"]).get("/api/worklist").status_code == 401
    assert _api(web_app, nurse.token).get("/api/worklist").status_code == 200
    again = admin.post(
        f"/api/staff/test-nurse/tokens/{second['id']}/revoke", json={"reason": "twice"}
    )
    assert again.status_code == 409
    others = admin.post(
        f"/api/staff/test-admin/tokens/{second['id']}/revoke", json={"reason": "wrong account"}
    )
    assert others.status_code == 404 and others.json()["error"]["field"] == "token"
    first_id = next(t["id"] for t in admin.get("/api/staff/test-nurse/tokens").json())
    add_account(db_url, "site-admin", "admin")
    code, out, err = run(
        capsys,
        *("user", "revoke-token", "test-nurse", str(first_id), "--reason", "left the ward"),
        *("--db", db_url, "--user", "site-admin"),
    )
    assert (code, out.strip()) == (0, f"revoked token {first_id} of test-nurse"), err
    assert _api(web_app, nurse.token).get("/api/worklist").status_code == 401
    with units() as unit:
        entries = unit.session.exec(
            select(AuditEntry)
            .where(AuditEntry.action == "staff.token_revoke")
            .order_by(col(AuditEntry.id))
        ).all()
    assert [(e.actor, e.reason) for e in entries] == [
        ("test-admin", "pc stolen"),
        ("site-admin", "left the ward"),
    ]
