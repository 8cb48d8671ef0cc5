"""Preview, confirm and sign in a real browser: an investigator signs the nurse's hold with
user name and password, and discontinues a subject through the preview (reason chosen, nothing
pre-selected, confirmation ticked) and signs it with the password alone in the same session."""

import re

import pytest

pytestmark = pytest.mark.slow


def test_an_investigator_signs_a_hold_then_discontinues_through_preview_and_signs(log_in_as):
    page = log_in_as("demo-investigator")
    page.goto("/subjects/DEMO-004")
    unsigned = page.locator("#signatures li.unsigned")
    assert "approved: hold from" in unsigned.first.inner_text()
    unsigned.first.get_by_role("link", name="Sign").click()
    form = page.locator("#sign-form")
    form.get_by_label("Your user name").fill("demo-investigator")
    form.get_by_label("Your password").fill("demo-password")
    form.get_by_role("button", name="Sign as demo-investigator").click()
    page.wait_for_url(re.compile(r"/subjects/DEMO-004\?done=signed$"))
    assert page.get_by_role("status").filter(has_text="Signed.").is_visible()
    assert "signed by demo-investigator" in page.locator("#signatures").inner_text()

    page.goto("/subjects/DEMO-003")
    discontinue = page.locator("#discontinue-form")
    assert discontinue.locator("select[name=reason]").input_value() == ""
    discontinue.locator("select[name=reason]").select_option("toxicity")
    discontinue.get_by_role("button", name="Preview the discontinuation").click()
    assert "Discontinuation is permanent" in page.locator("#irreversible").inner_text()
    page.get_by_label(re.compile("I confirm that treatment ends")).check()
    page.get_by_role("button", name="Confirm discontinuation").click()
    page.wait_for_url(re.compile(r"/signatures/discontinuation-\d+$"))
    form = page.locator("#sign-form")
    assert form.get_by_label("Your user name").count() == 0  # signed once this session
    assert "approved: discontinuation on" in page.locator("#meaning").inner_text()
    form.get_by_label("Your password").fill("wrong password!")
    form.get_by_role("button", name="Sign as demo-investigator").click()
    assert "Not signed: password" in page.locator("#sign-error").inner_text()
    form = page.locator("#sign-form")
    form.get_by_label("Your password").fill("demo-password")
    form.get_by_role("button", name="Sign as demo-investigator").click()
    page.wait_for_url(re.compile(r"/subjects/DEMO-003\?done=signed$"))
    assert page.locator("#status").inner_text() == "discontinued"


def test_a_nurse_voids_a_record_through_its_preview(log_in_as):
    page = log_in_as("demo-nurse")
    page.goto("/subjects/DEMO-001")
    page.locator("#visit-form").get_by_role("button", name="Record visit").click()
    row = page.locator("#records tr").filter(has_text="done")
    row.first.get_by_role("link", name="Void or correct this record").click()
    assert "is struck out" in page.locator("#what-changes").inner_text()
    page.get_by_label("Reason (required)").fill("recorded for the wrong day")
    page.get_by_label(re.compile("I confirm that visit")).check()
    page.get_by_role("button", name=re.compile("Void visit")).click()
    page.wait_for_url(re.compile(r"/subjects/DEMO-001\?done=void$"))
    assert "void: recorded for the wrong day" in page.locator("#records").inner_text()
