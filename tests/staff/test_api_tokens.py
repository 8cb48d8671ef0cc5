"""The JSON API with bearer tokens: the same operations and roles as the pages."""

import json

from fastapi.testclient import TestClient
from sqlmodel import func, select

from scheduler.models import AuditEntry, Hold, Resumption
from scheduler.staff.accounts import deactivate
from scheduler.worklist.items import worklist_json, worklists


def _api(web_app, token):
    return TestClient(web_app, headers={"Authorization": f"Bearer {token}"})


def test_the_api_refuses_requests_without_a_valid_token(web_app):
    for headers in ({}, {"Authorization": "Bearer forged"}):
        response = TestClient(web_app, headers=headers).get("/api/subjects/DEMO-001/plan")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["field"] == "authorization"


def test_the_api_does_not_accept_the_session_cookie(web_app, staff_client):
    cookie = staff_client("nurse").cookies["dosing_session"]
    browser = TestClient(web_app, cookies={"dosing_session": cookie})
    assert browser.get("/api/subjects/DEMO-001/plan").status_code == 401


def test_a_nurse_records_a_grade_3_event_and_reads_the_proposal(web_app, staff_client, units):
    api = _api(web_app, staff_client("nurse").token)
    response = api.post(
        "/api/subjects/DEMO-002/adverse-events",
        json={"term": "hypertension", "grade": 3, "onset": "2026-03-02", "related": True},
    )
    assert response.status_code == 201
    assert response.json()["proposal"]["action"] == "hold_then_reduce"
    assert response.json()["proposal"]["resume_dose_mg"] == 10
    with units() as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "adverse_event.record")
        ).all()[-1]
    assert entry.actor == "test-nurse"


def test_a_nurse_holds_and_an_investigator_resumes_at_10_mg(web_app, staff_client):
    nurse = _api(web_app, staff_client("nurse").token)
    held = nurse.post(
        "/api/subjects/DEMO-002/holds", json={"start": "2026-02-28", "reason": "grade 3 HTN"}
    )
    assert held.status_code == 201 and held.json()["status"] == "on_hold"
    refused = nurse.post(
        "/api/subjects/DEMO-002/resumptions", json={"on": "2026-03-02", "dose_mg": 10}
    )
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "role"
    investigator = _api(web_app, staff_client("investigator").token)
    resumed = investigator.post(
        "/api/subjects/DEMO-002/resumptions", json={"on": "2026-03-02", "dose_mg": 10}
    )
    assert resumed.status_code == 201 and resumed.json()["dose_mg"] == 10


def test_doses_and_visits_are_recorded_and_rule_breaks_are_409s(web_app, staff_client):
    api = _api(web_app, staff_client("nurse").token)
    dose = api.post(
        "/api/subjects/DEMO-002/doses", json={"date": "2026-02-27", "taken": True, "at": "08:10"}
    )
    assert dose.status_code == 201 and dose.json()["status"] == "taken"
    again = api.post("/api/subjects/DEMO-002/doses", json={"date": "2026-02-27", "taken": False})
    assert again.status_code == 409 and again.json()["error"]["field"] == "date"
    visit = api.post("/api/subjects/DEMO-001/visits", json={"code": "SCR", "on": "2026-03-02"})
    assert visit.status_code == 201 and visit.json()["status"] == "done"
    on_hold = api.post("/api/subjects/DEMO-004/doses", json={"date": "2026-03-01", "taken": True})
    assert on_hold.status_code == 409 and "hold" in on_hold.json()["error"]["reason"]


def test_a_pharmacist_reads_plans_and_the_worklist_but_records_nothing(web_app, staff_client):
    api = _api(web_app, staff_client("pharmacist").token)
    assert api.get("/api/subjects/DEMO-003/plan").json()["dose_mg"] == 10
    assert api.get("/api/worklist").status_code == 200
    refused = api.post("/api/subjects/DEMO-001/visits", json={"code": "SCR", "on": "2026-03-02"})
    assert refused.status_code == 403


def test_a_deactivated_users_token_stops_working_at_once(web_app, staff_client, units):
    token = staff_client("nurse").token
    with units("admin") as unit:
        deactivate(unit, "test-nurse", reason="left")
    assert _api(web_app, token).get("/api/subjects/DEMO-001/plan").status_code == 401


def test_the_openapi_schema_declares_bearer_auth_at_the_docs_url(web_app, staff_client):
    client = staff_client("nurse")
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text
    schema = client.get("/api/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/api/subjects/{code}/holds" in schema["paths"]
    assert "/subjects/{code}/visits" not in schema["paths"]  # pages are not API


def test_the_worklist_is_the_same_json_as_dosing_due(web_app, staff_client, units, clock):
    api = _api(web_app, staff_client("nurse").token)
    answer = api.get("/api/worklist", params={"date": "2026-03-05", "site": "ZJU1"})
    assert answer.status_code == 200
    with units() as unit:
        expected = worklist_json(worklists(unit.session, clock.now(), site_code="ZJU1", on=None))
    today = api.get("/api/worklist").json()
    assert today["date"] == "2026-03-02" and today["items"] == json.loads(
        json.dumps(expected["items"], default=str)
    )
    assert answer.json()["date"] == "2026-03-05"
    assert {"subject", "kind", "visit_code", "target", "window_start", "window_end"} <= set(
        answer.json()["items"][0]
    )


def _count(units, table):
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(table)).one()


def test_a_hold_preview_says_which_doses_are_lost_and_stores_nothing(web_app, staff_client, units):
    api = _api(web_app, staff_client("nurse").token)
    response = api.post(
        "/api/subjects/DEMO-002/hold-preview", json={"start": "2026-03-02", "reason": "g3 HTN"}
    )
    assert response.status_code == 200
    preview = response.json()
    assert (preview["stored"], preview["status_before"], preview["status_after"]) == (
        False,
        "on_treatment",
        "on_hold",
    )
    assert preview["lost"][0] == {
        "cycle": 2,
        "first_day": 5,
        "last_day": 14,
        "first": "2026-03-02",
        "last": "2026-03-11",
        "count": 10,
        "tentative": False,
    }
    assert preview["plan"]["status"] == "on_hold"
    assert _count(units, Hold) == 2  # the demo's two


def test_a_resume_preview_is_for_investigators_and_shows_the_reduction(
    web_app, staff_client, units
):
    body = {"on": "2026-03-02", "dose_mg": 10}
    nurse = _api(web_app, staff_client("nurse").token)
    assert nurse.post("/api/subjects/DEMO-004/resume-preview", json=body).status_code == 403
    investigator = _api(web_app, staff_client("investigator").token)
    preview = investigator.post("/api/subjects/DEMO-004/resume-preview", json=body).json()
    assert preview["status_after"] == "on_treatment" and preview["restored_count"] > 0
    assert {"cycle": 3, "before_mg": 12, "after_mg": 10} in preview["levels"]
    assert _count(units, Resumption) == 1
    refused = investigator.post("/api/subjects/DEMO-002/resume-preview", json=body)
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "on"


def test_the_audit_trail_is_readable_with_old_and_new_values(web_app, staff_client):
    investigator = _api(web_app, staff_client("investigator").token)
    investigator.post(
        "/api/subjects/DEMO-004/resumptions",
        json={"on": "2026-03-02", "dose_mg": 10, "reason": "diarrhoea grade 1"},
    )
    trail = _api(web_app, staff_client("pharmacist").token).get(
        "/api/audit", params={"subject": "DEMO-004", "limit": 1}
    )
    assert trail.status_code == 200
    (entry,) = trail.json()
    assert (entry["actor"], entry["action"], entry["subject"]) == (
        "test-investigator",
        "treatment.resume",
        "DEMO-004",
    )
    assert entry["old"] == {"dose_mg": 12} and entry["new"] == {"on": "2026-03-02", "dose_mg": 10}
    assert entry["reason"] == "diarrhoea grade 1"
    missing = investigator.get("/api/audit", params={"subject": "GHOST"})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "subject"
