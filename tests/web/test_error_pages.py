"""Refusals a page cannot show next to a field: a person in a browser gets the site's error page,
a program gets ``{"error": {"field", "reason"}}``; neither gets FastAPI's ``{"detail": ...}``."""

import pytest


@pytest.fixture
def nurse(staff_client):
    return staff_client("nurse")


def _is_page(response) -> bool:
    return response.headers["content-type"].startswith("text/html") and "<h1>" in response.text


def test_a_subject_code_that_cannot_be_one_is_a_422_page(nurse):
    response = nurse.get("/subjects/no!such")
    assert response.status_code == 422 and _is_page(response)
    assert "code: " in response.text


def test_the_feed_page_of_an_unknown_subject_is_a_404_page(nurse):
    response = nurse.get("/subjects/GHOST/feed")
    assert response.status_code == 404 and _is_page(response)
    assert "no subject &#39;GHOST&#39;" in response.text


def test_an_unknown_address_is_a_404_page_for_people_and_json_for_programs(nurse):
    page = nurse.get("/no-such-page")
    assert page.status_code == 404 and _is_page(page)
    api = nurse.get("/api/no-such-operation")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/subjects/DEMO-002/adverse-events", {"term": "rash", "grade": 9}, "grade"),
        ("/api/subjects/DEMO-002/doses", {"date": "2026-03-02"}, "taken"),
        ("/api/subjects/DEMO-002/doses", {"date": 0, "taken": True}, "date"),
        ("/api/subjects/DEMO-002/visits", {"code": "C3D1", "on": "20260302"}, "on"),
        ("/api/subjects/no!such/visits", {"code": "C3D1", "on": "2026-03-02"}, "code"),
    ],
)
def test_a_malformed_api_request_is_a_422_naming_the_field(nurse, path, body, field):
    response = nurse.post(path, json=body)
    assert response.status_code == 422
    assert set(response.json()) == {"error"} and response.json()["error"]["field"] == field
