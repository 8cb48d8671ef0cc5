"""Every page carries the same header: the links to every part of the app and the search box,
and statuses are printed in words."""

import re

import pytest

PAGES = [
    "/",
    "/overview",
    "/pharmacy",
    "/pharmacy/subjects/DEMO-002",
    "/subjects/DEMO-002",
    "/subjects/DEMO-002/feed",
    "/audit",
    "/exports",
    "/subjects/new",
    "/subjects?q=DEMO",
    "/subjects/DEMO-002/day1?cycle=3",
]


def _nav(html: str) -> list[str]:
    found = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    assert found, "the page has no main navigation"
    return re.findall(r'href="([^"]+)"', found.group(1))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_same_navigation_and_the_search_box(staff_client, path):
    nurse = staff_client("nurse")
    page = nurse.get(path)
    assert page.status_code == 200, page.text
    assert _nav(page.text) == _nav(nurse.get("/").text)
    assert 'action="/subjects" class="search" role="search"' in page.text
    assert '<link rel="stylesheet" href="/static/app.css">' in page.text


def test_the_navigation_names_the_study_overview_and_exports(staff_client):
    links = _nav(staff_client("nurse").get("/").text)
    assert {"/", "/overview", "/pharmacy", "/subjects/new", "/exports", "/audit"} <= set(links)


def test_the_enrol_link_is_for_those_who_may_enrol(staff_client):
    assert "/subjects/new" not in _nav(staff_client("pharmacist").get("/").text)


def test_the_stylesheet_is_served_from_the_package(staff_client):
    css = staff_client("nurse").get("/static/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "http" not in css.text  # nothing fetched from elsewhere


def test_a_partial_code_lists_the_matching_subjects(staff_client):
    page = staff_client("nurse").get("/subjects?q=demo-00")
    assert page.status_code == 200
    listed = re.findall(r'<td><a href="/subjects/([^"]+)">', page.text)
    assert listed == ["DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004", "DEMO-005"]


def test_a_code_that_names_one_subject_goes_straight_to_its_page(staff_client):
    nurse = staff_client("nurse")
    exact = nurse.get("/subjects?q=demo-003", follow_redirects=False)
    assert exact.status_code == 303 and exact.headers["location"] == "/subjects/DEMO-003"
    one = nurse.get("/subjects?q=05", follow_redirects=False)
    assert one.headers["location"] == "/subjects/DEMO-005"


def test_a_search_finding_nothing_says_so_and_wildcards_are_literal(staff_client):
    nurse = staff_client("nurse")
    assert "No subject's code contains" in nurse.get("/subjects?q=ZZZ").text
    assert "No subject's code contains" in nurse.get("/subjects?q=%25").text
    assert "No subject's code contains" in nurse.get("/subjects?q=DEMO_00").text


def test_an_empty_search_is_said_next_to_the_box(staff_client):
    page = staff_client("nurse").get("/subjects?q=")
    assert page.status_code == 422
    assert 'id="search-q-error" role="alert">must not be empty' in page.text


def test_statuses_are_words_not_codes(staff_client):
    nurse = staff_client("nurse")
    subject = nurse.get("/subjects/DEMO-004").text
    assert 'id="status">on hold</small>' in subject
    assert ">on_hold<" not in subject and "in_progress<" not in subject
    worklist = nurse.get("/").text
    assert "<td>on hold</td>" in worklist and "<td>on_hold</td>" not in worklist
    overview = nurse.get("/overview").text
    assert "on treatment" in overview
