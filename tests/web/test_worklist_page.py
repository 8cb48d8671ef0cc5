"""The nurse's home page: today's worklist on the demo trial, with date and site pickers."""

import re

import pytest

from scheduler.services.visits import record_visit


@pytest.fixture
def nurse(staff_client):
    return staff_client("nurse")


def _rows(html: str, kind: str) -> list[str]:
    return re.findall(rf'data-kind="{kind}" data-subject="([^"]+)"', html)


def test_the_home_page_groups_todays_work_by_urgency(nurse):
    page = nurse.get("/")
    assert page.status_code == 200
    assert _rows(page.text, "on_hold") == ["DEMO-004"]
    assert "DEMO-001" in _rows(page.text, "visit_in_window")  # screening window open
    titles = re.findall(r"<h3>([^<(]+) \(", page.text)
    assert titles == sorted(titles, key=["Overdue or needs a decision", "Today",
                                         "Window open", "Keep an eye on"].index)  # fmt: skip
    assert 'href="/subjects/DEMO-004"' in page.text


def test_a_visit_recorded_done_leaves_the_page(nurse, units):
    before = nurse.get("/", params={"site": "ZJU1"}).text
    assert "DEMO-001" in _rows(before, "visit_in_window")
    with units() as unit:
        record_visit(unit, "DEMO-001", "SCR", on=unit.now.date())
    after = nurse.get("/", params={"site": "ZJU1"}).text
    assert "DEMO-001" not in _rows(after, "visit_in_window")


def test_the_date_picker_shows_another_day(nurse):
    page = nurse.get("/", params={"date": "2026-03-30", "site": "ZJU1"})
    assert page.status_code == 200
    assert 'value="2026-03-30"' in page.text and "Monday 30 March 2026" in page.text


def test_a_bad_date_is_refused_naming_the_field(nurse):
    response = nurse.get("/", params={"date": "2026-13-01"})
    assert response.status_code == 422
    assert "date" in response.text and "2026-13-01" in response.text
