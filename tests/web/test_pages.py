"""The staff pages and the JSON API render from the same services as the CLI."""

import pytest


@pytest.fixture
def client(staff_client):
    return staff_client("nurse")


def test_the_worklist_page_lists_the_subject_on_hold(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "DEMO-004" in page.text and "on_hold" in page.text


def test_the_subject_page_shows_the_delayed_reduced_cycle(client):
    page = client.get("/subjects/DEMO-003")
    assert page.status_code == 200
    assert "delayed 5 days" in page.text and "10 mg" in page.text


def test_the_api_plan_matches_the_core_json_keys(client):
    plan = client.get("/api/subjects/DEMO-003/plan").json()
    assert plan["subject"] == "DEMO-003" and plan["dose_mg"] == 10


def test_an_unknown_subject_is_a_404_naming_the_field(client):
    response = client.get("/api/subjects/GHOST/plan")
    assert response.status_code == 404
    assert response.json() == {"error": {"field": "subject", "reason": "no subject 'GHOST'"}}
