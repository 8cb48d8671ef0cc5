"""The staff tasks done in the page alone, in real Chromium, on a phone (390x844) and a laptop
(1366x900): find a subject, enrol one (a refusal first: the summary, the focus, what was
typed), confirm day-1 criteria from the worklist row that asks for it, download an export."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.slow

TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the demo site's today


def _fits(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_the_search_box_finds_a_subject_from_a_partial_code(sized_login):
    page = sized_login("demo-nurse")
    search = page.get_by_role("search")
    search.get_by_label("Find a subject by code").fill("demo-00")
    search.get_by_role("button", name="Find").click()
    assert page.locator("#search-results a").count() == 5
    assert _fits(page)
    search.get_by_label("Find a subject by code").fill("003")
    search.get_by_role("button", name="Find").click()
    page.wait_for_url(re.compile(r"/subjects/DEMO-003$"))


def test_enrolment_refused_then_done_on_the_page(sized_login, screen):
    page = sized_login("demo-nurse")
    page.get_by_role("link", name="Enrol").click()
    code = f"BR-{screen['width']}"
    page.get_by_label("Subject code").fill(code)
    page.get_by_label("Cycle 1 day 1").fill(str(TODAY + dt.timedelta(days=7)))
    page.get_by_role("button", name="Enrol").click()
    summary = page.locator("#error-summary")
    assert "Nothing was recorded" in summary.inner_text()
    assert "give the surgery date" in summary.inner_text()
    assert page.evaluate("() => document.activeElement.id") == "enrol-surgery"
    box = page.locator("#enrol-surgery").bounding_box()
    assert box is not None and 0 <= box["y"] <= screen["height"]  # the field is in sight
    assert page.get_by_label("Subject code").input_value() == code  # kept as typed
    assert _fits(page)
    page.locator("#enrol-surgery").fill(str(TODAY - dt.timedelta(days=30)))
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_url(re.compile(rf"/subjects/{code}\?done=enrol$"))
    assert "Subject enrolled" in page.get_by_role("status").inner_text()


def test_day1_criteria_are_confirmed_from_the_worklist_row(sized_login):
    page = sized_login("demo-nurse")
    link = None
    for ahead in range(0, 25):
        page.goto(f"/?date={TODAY + dt.timedelta(days=ahead)}")
        links = page.get_by_role("link", name="Confirm day-1 criteria")
        if links.count():
            link = links.first
            break
    assert link is not None, "no worklist row asks for a day-1 check in the next 25 days"
    link.click()
    page.wait_for_url(re.compile(r"/subjects/[^/]+/day1\?cycle=\d+$"))
    assert _fits(page)
    page.get_by_label("not met: the cycle waits").check()
    page.get_by_label("Criterion not met").select_option("PLT")
    page.get_by_label(re.compile("^Note or reason")).fill("62")
    page.get_by_role("button", name="Record the day-1 check").click()
    page.wait_for_url(re.compile(r"done=day1-not_met$"))
    assert "the cycle waits" in page.get_by_role("status").inner_text()


def test_an_export_downloads_from_the_page(sized_login):
    page = sized_login("demo-nurse")
    page.get_by_role("link", name="Exports").click()
    assert _fits(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download EX").click()
    assert download.value.suggested_filename == "ex.csv"
    assert download.value.path().read_text().startswith("STUDYID,")
