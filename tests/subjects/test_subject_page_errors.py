"""Errors a person sees on the subject page (2026-03-02, the fixed clock): a refused form is
summed up at the top of the page with a link to the field, which takes the focus and keeps what
was typed; a link that would be refused says why and offers the next possible date."""

import re

from sqlmodel import func, select

from scheduler.models import DoseRecord


def _summary(html: str) -> str:
    found = re.search(r'<div class="error-summary" id="refused".*?</div>', html, re.S)
    assert found, "no error summary"
    return found.group(0)


def test_a_refused_dose_is_summed_up_at_the_top_with_a_link_to_the_field(staff_client, units):
    nurse = staff_client("nurse")
    with units() as unit:
        before = unit.session.exec(select(func.count()).select_from(DoseRecord)).one()
    response = nurse.form(
        "/subjects/DEMO-002/doses",
        {"date": "2026-02-20", "outcome": "taken", "at": "08:30", "reason": "typed"},
    )
    assert response.status_code == 422
    summary = _summary(response.text)
    assert "Nothing was recorded" in summary and 'href="#dose-date"' in summary
    assert response.text.index("error-summary") < response.text.index('id="dose-form"')
    date_input = re.search(r"<input[^>]*id=\"dose-date\"[^>]*>", response.text)
    assert date_input and "autofocus" in date_input.group(0)
    assert 'aria-invalid="true"' in date_input.group(
        0
    ) and 'value="2026-02-20"' in date_input.group(0)
    assert 'value="08:30"' in response.text and 'value="typed"' in response.text
    with units() as unit:
        assert unit.session.exec(select(func.count()).select_from(DoseRecord)).one() == before


def test_a_field_the_form_does_not_show_links_to_the_form_and_focuses_the_summary(staff_client):
    response = staff_client("nurse").form(
        "/subjects/DEMO-002/doses", {"date": "2026-02-27", "outcome": "taken", "slot": "2"}
    )
    summary = _summary(response.text)
    assert 'href="#dose-form"' in summary and "autofocus" in summary


def test_the_proposed_hold_after_a_dose_that_day_says_why_and_offers_the_next_day(staff_client):
    nurse = staff_client("nurse")
    nurse.form("/subjects/DEMO-002/doses", {"date": "2026-03-02", "outcome": "taken"})
    page = nurse.form(
        "/subjects/DEMO-002/adverse-events",
        {"term": "hypertension", "grade": "3", "onset": "2026-03-02", "related": "yes"},
    )
    refused = re.search(r'<p id="hold-from-onset-refused">(.*?)</p>', page.text, re.S).group(1)
    assert "a dose is recorded on 2026-03-02" in refused
    assert "The first day a hold can start is 2026-03-03" in refused
    link = re.search(r'href="(/subjects/DEMO-002/hold-preview\?from=2026-03-03[^"]*)"', page.text)
    assert link, "the preview link starts on the next possible day"
    preview = nurse.get(link.group(1).replace("&amp;", "&"))
    assert preview.status_code == 200 and "Doses lost" in preview.text


def test_without_a_dose_that_day_the_hold_is_offered_from_the_onset(staff_client):
    page = staff_client("nurse").form(
        "/subjects/DEMO-002/adverse-events",
        {"term": "hypertension", "grade": "3", "onset": "2026-03-02", "related": "yes"},
    )
    assert 'id="hold-from-onset-refused"' not in page.text
    assert "Preview the hold from 2026-03-02" in page.text
