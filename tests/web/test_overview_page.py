"""The study overview page: the demo site's swimmer plot and its subjects."""

import xml.etree.ElementTree as ET

import pytest

NS = {"svg": "http://www.w3.org/2000/svg"}


@pytest.fixture
def investigator(staff_client):
    return staff_client("investigator")


def test_the_overview_draws_every_demo_subject(investigator):
    page = investigator.get("/overview", params={"site": "ZJU1"})
    assert page.status_code == 200
    start = page.text.index("<svg")
    svg = ET.fromstring(page.text[start : page.text.index("</svg>") + len("</svg>")])
    outcomes = {
        g.get("data-subject"): g.get("data-outcome")
        for g in svg.iterfind(".//svg:g[@data-subject]", NS)
    }
    assert outcomes == {
        "DEMO-001": "screening",
        "DEMO-002": "ongoing",
        "DEMO-003": "ongoing",
        "DEMO-004": "on hold",
        "DEMO-005": "discontinued",
    }
    assert 'href="/subjects/DEMO-005"' in page.text and "relapse" in page.text


def test_an_unknown_site_is_refused_naming_the_field(investigator):
    response = investigator.get("/overview", params={"site": "NOPE"})
    assert response.status_code == 404 and "site" in response.text
