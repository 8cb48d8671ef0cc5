"""A subject's calendar feed link through the API: the same service and roles as the feed page
(any staff may see whether a link is live; nurses and investigators issue and withdraw), and
the link is in the issuing answer only."""

from fastapi.testclient import TestClient
from sqlmodel import select

from scheduler.models import AuditEntry


def _feed_path(url: str) -> str:
    return "/feeds/" + url.split("/feeds/", 1)[1]


def _api(web_app, staff_client, role):
    token = staff_client(role).token
    return TestClient(web_app, headers={"Authorization": f"Bearer {token}"})


def test_a_nurse_issues_a_link_that_the_calendar_feed_then_serves(web_app, staff_client, units):
    nurse = _api(web_app, staff_client, "nurse")
    assert nurse.get("/api/subjects/DEMO-002/feed").json()["live"] is False
    issued = nurse.post("/api/subjects/DEMO-002/feed", json={"reason": "new phone"})
    assert issued.status_code == 201 and issued.headers["cache-control"] == "no-store"
    link = issued.json()
    assert link["webcal"].startswith("webcal://") and link["rotated"] is False
    path = _feed_path(link["https"])
    served = TestClient(web_app).get(path)
    assert served.status_code == 200 and "BEGIN:VCALENDAR" in served.text
    status = nurse.get("/api/subjects/DEMO-002/feed").json()
    assert status["live"] is True and status["issued_by"] == "test-nurse"
    token = path.removeprefix("/feeds/").removesuffix(".ics")
    assert token not in nurse.get("/api/subjects/DEMO-002/feed").text  # never shown again
    with units() as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "feed_token.issue")
        ).one()
    assert (entry.actor, entry.reason) == ("test-nurse", "new phone")


def test_issuing_over_a_live_link_needs_rotate_and_then_the_old_link_is_gone(web_app, staff_client):
    nurse = _api(web_app, staff_client, "nurse")
    first = _feed_path(nurse.post("/api/subjects/DEMO-002/feed", json={}).json()["https"])
    refused = nurse.post("/api/subjects/DEMO-002/feed", json={})
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "rotate"
    assert TestClient(web_app).get(first).status_code == 200  # the refusal changed nothing
    rotated = nurse.post("/api/subjects/DEMO-002/feed", json={"rotate": True})
    assert rotated.status_code == 201 and rotated.json()["rotated"] is True
    assert TestClient(web_app).get(first).status_code == 410
    assert TestClient(web_app).get(_feed_path(rotated.json()["https"])).status_code == 200


def test_withdrawing_the_link_makes_the_feed_answer_410(web_app, staff_client):
    nurse = _api(web_app, staff_client, "nurse")
    link = _feed_path(nurse.post("/api/subjects/DEMO-003/feed", json={}).json()["https"])
    revoked = nurse.post("/api/subjects/DEMO-003/feed/revoke", json={"reason": "phone lost"})
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 1}
    assert TestClient(web_app).get(link).status_code == 410
    again = nurse.post("/api/subjects/DEMO-003/feed/revoke", json={})
    assert again.json() == {"revoked": 0}


def test_a_pharmacist_sees_the_status_but_may_not_issue_or_withdraw(web_app, staff_client):
    pharmacist = _api(web_app, staff_client, "pharmacist")
    assert pharmacist.get("/api/subjects/DEMO-002/feed").status_code == 200
    for path in ("/api/subjects/DEMO-002/feed", "/api/subjects/DEMO-002/feed/revoke"):
        refused = pharmacist.post(path, json={})
        assert refused.status_code == 403 and refused.json()["error"]["field"] == "role"
    assert pharmacist.get("/api/subjects/DEMO-002/feed").json()["live"] is False


def test_an_unknown_subject_is_a_404_naming_the_subject(web_app, staff_client):
    nurse = _api(web_app, staff_client, "nurse")
    for method in ("GET", "POST"):
        response = nurse.request(method, "/api/subjects/GHOST/feed", json={})
        assert response.status_code == 404 and response.json()["error"]["field"] == "subject"
