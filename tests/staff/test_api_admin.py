"""The admin's operations through the API, as on the Accounts and Reminders pages: admin tokens
only, the same services (a refused value stores nothing), a password never returned and an API
token shown only in the answer that issues it."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from scheduler.models import AuditEntry
from scheduler.staff.accounts import verify_password

NEW_PASSWORD = "a long enough password"


def _api(web_app, token):
    return TestClient(web_app, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def admin(web_app, staff_client):
    return _api(web_app, staff_client("admin").token)


def test_an_admin_adds_a_nurse_who_can_then_log_in(admin, units):
    added = admin.post(
        "/api/staff", json={"name": "li.na", "role": "nurse", "password": NEW_PASSWORD}
    )
    assert added.status_code == 201
    assert {k: added.json()[k] for k in ("name", "role", "active", "created_by")} == {
        "name": "li.na",
        "role": "nurse",
        "active": True,
        "created_by": "test-admin",
    }
    assert NEW_PASSWORD not in added.text and "password" not in added.json()
    listed = admin.get("/api/staff").json()
    assert "li.na" in [a["name"] for a in listed] and "password_hash" not in listed[0]
    with units() as unit:
        assert verify_password(unit.session, "li.na", NEW_PASSWORD) is not None


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"name": "li na", "role": "nurse", "password": NEW_PASSWORD}, "name", 422),
        ({"name": "li.na", "role": "surgeon", "password": NEW_PASSWORD}, "role", 422),
        ({"name": "li.na", "role": "nurse", "password": "short"}, "password", 422),
        ({"name": "test-admin", "role": "nurse", "password": NEW_PASSWORD}, "name", 409),
    ],
)
def test_a_refused_account_names_the_field_and_stores_nothing(admin, units, body, field, status):
    response = admin.post("/api/staff", json=body)
    assert response.status_code == status and response.json()["error"]["field"] == field
    with units() as unit:
        created = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "staff.create")
        ).all()
    assert [e.actor for e in created] == ["admin-setup"]  # the fixture's own admin only


def test_a_token_issued_once_works_until_the_account_is_deactivated(web_app, admin, staff_client):
    staff_client("nurse")
    issued = admin.post("/api/staff/test-nurse/tokens", json={"label": "lab system"})
    assert issued.status_code == 201 and issued.headers["cache-control"] == "no-store"
    token = issued.json()["token"]
    assert _api(web_app, token).get("/api/subjects/DEMO-001/plan").status_code == 200
    assert token not in admin.get("/api/staff").text
    refused = admin.post("/api/staff/test-nurse/deactivate", json={"reason": ""})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "reason"
    done = admin.post("/api/staff/test-nurse/deactivate", json={"reason": "left the unit"})
    assert done.status_code == 200 and done.json()["active"] is False
    assert _api(web_app, token).get("/api/subjects/DEMO-001/plan").status_code == 401
    again = admin.post("/api/staff/test-nurse/deactivate", json={"reason": "twice"})
    assert again.status_code == 409


def test_an_unknown_user_is_a_404_naming_the_user(admin):
    for path, body in (("deactivate", {"reason": "x"}), ("tokens", {})):
        response = admin.post(f"/api/staff/ghost/{path}", json=body)
        assert response.status_code == 404 and response.json()["error"]["field"] == "name"


def test_the_reminder_outbox_reports_counts_per_status(admin):
    report = admin.get("/api/reminders/outbox")
    assert report.status_code == 200
    assert {"counts", "failures", "next_due"} <= set(report.json())
    assert {"pending", "sent", "failed"} <= set(report.json()["counts"])


def test_only_an_admin_may_call_the_admin_operations(web_app, staff_client):
    calls = [
        ("GET", "/api/staff", None),
        ("POST", "/api/staff", {"name": "mallory", "role": "admin", "password": NEW_PASSWORD}),
        ("POST", "/api/staff/test-nurse/deactivate", {"reason": "x"}),
        ("POST", "/api/staff/test-nurse/tokens", {}),
        ("GET", "/api/reminders/outbox", None),
    ]
    for role in ("nurse", "investigator", "pharmacist"):
        api = _api(web_app, staff_client(role).token)
        for method, path, body in calls:
            response = api.request(method, path, json=body)
            assert response.status_code == 403, (role, path)
            assert response.json()["error"]["field"] == "role"
