"""The study overview page: the demo site's swimmer plot and its subjects."""

import re
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


@pytest.mark.parametrize(
    ("site", "status", "reason"),
    [("NOPE", 404, "no site &#39;NOPE&#39;"), ("<b>", 422, "is not a valid code")],
)
def test_an_unknown_site_is_said_next_to_the_site_picker(investigator, site, status, reason):
    response = investigator.get("/overview", params={"site": site})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    found = re.search(r'id="overview-site-error" role="alert">([^<]*)<', response.text)
    assert found and reason in found.group(1)
    assert "<svg" not in response.text and 'value="ZJU1"' in response.text  # pick another
