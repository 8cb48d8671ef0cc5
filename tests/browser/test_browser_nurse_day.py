"""A research nurse's morning in a real browser, on the demo trial as of today: DEMO-001's
screening visit is due, DEMO-002 is in cycle 2 at 12 mg."""

import re

import pytest

pytestmark = pytest.mark.slow


def _worklist_rows(page, subject, text):
    return page.locator("tr", has=page.locator(f'a[href="/subjects/{subject}"]')).filter(
        has_text=text
    )


def test_a_nurse_records_the_due_screening_visit_and_it_leaves_the_worklist(log_in_as):
    page = log_in_as("demo-nurse")
    assert _worklist_rows(page, "DEMO-001", "SCR").count() >= 1
    page.locator('a[href="/subjects/DEMO-001"]').first.click()
    page.wait_for_url(re.compile(r"/subjects/DEMO-001$"))
    visit_form = page.locator("#visit-form")
    # Baseline imaging (day -28..-1, protocol version 4) is due too and comes first.
    assert visit_form.get_by_label("Visit").input_value() == "BASE"
    visit_form.get_by_label("Visit").select_option("SCR")
    visit_form.get_by_role("button", name="Record visit").click()
    assert page.get_by_role("status").filter(has_text="Visit recorded.").is_visible()
    page.goto("/")
    assert _worklist_rows(page, "DEMO-001", "SCR").count() == 0


def test_a_grade_3_adverse_event_shows_the_proposed_hold_and_its_preview(log_in_as):
    page = log_in_as("demo-nurse")
    page.goto("/subjects/DEMO-002")
    form = page.locator("#ae-form")
    form.get_by_label("CTCAE term").fill("hypertension")
    form.locator("select[name=grade]").select_option("3")
    form.get_by_label("related", exact=True).check()
    form.get_by_role("button", name="Record adverse event").click()
    proposal = page.locator("#ae-proposal")
    assert "Proposed action: hold, then resume at a lower dose" in proposal.inner_text()
    assert "then resume at 10 mg" in proposal.inner_text()
    proposal.get_by_role("link", name=re.compile("Preview the hold")).click()
    assert "Doses lost" in page.locator("#preview").inner_text()
    page.get_by_role("button", name="Confirm hold").click()
    assert page.locator("#status").inner_text() == "on hold"
