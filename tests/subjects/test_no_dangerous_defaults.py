"""No dangerous defaults: causality is asked (on the page and through the API), a dose outcome
is chosen, the dose form is not offered on hold or after discontinuation, and a duplicate
adverse event is refused naming the first. On the demo trial (DEMO-002 on treatment, DEMO-004
on hold, DEMO-005 discontinued)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from scheduler.errors import Conflict
from scheduler.models import AdverseEvent, AuditEntry
from scheduler.subjects.adverse_events import record_adverse_event


def _form(page: str, form_id: str) -> str:
    start = page.index(f'id="{form_id}"')
    return page[start : page.index("</form>", start)]


def _events(units) -> int:
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(AdverseEvent)).one()


def test_the_adverse_event_form_asks_causality_with_nothing_ticked(staff_client, units):
    nurse = staff_client("nurse")
    form = _form(nurse.get("/subjects/DEMO-002").text, "ae-form")
    radios = re.findall(r'<input type="radio" name="related"[^>]*>', form)
    assert len(radios) == 2 and not any("checked" in r for r in radios)
    before = _events(units)
    refused = nurse.form(
        "/subjects/DEMO-002/adverse-events",
        {"term": "rash", "grade": "2", "onset": "2026-03-02"},
    )
    assert refused.status_code == 422
    assert "say whether the event is related" in refused.text
    assert _events(units) == before


def test_the_api_asks_causality_too(web_app, staff_client, units):
    """As the form does: an event whose relation to the study drug is not said is refused,
    naming the field, and nothing is stored (the CLI's ``--related/--unrelated`` likewise,
    tests/app/test_cli.py)."""
    api = TestClient(web_app, headers={"Authorization": f"Bearer {staff_client('nurse').token}"})
    before = _events(units)
    refused = api.post(
        "/api/subjects/DEMO-002/adverse-events",
        json={"term": "rash", "grade": 2, "onset": "2026-03-02"},
    )
    assert refused.status_code == 422 and "related" in refused.text
    assert _events(units) == before


def test_the_dose_form_preselects_no_outcome_and_is_not_offered_on_hold_or_discontinued(
    staff_client,
):
    nurse = staff_client("nurse")
    form = _form(nurse.get("/subjects/DEMO-002").text, "dose-form")
    assert "checked" not in form
    for code in ("DEMO-004", "DEMO-005"):
        page = nurse.get(f"/subjects/{code}").text
        assert 'id="dose-form"' not in page and 'id="dose-form-closed"' in page


def test_a_second_adverse_event_with_the_same_term_grade_and_onset_is_refused_naming_the_first(
    staff_client, units
):
    nurse = staff_client("nurse")
    values = {"term": "rash", "grade": "2", "onset": "2026-03-01", "related": "no"}
    first = nurse.form("/subjects/DEMO-002/adverse-events", values, follow_redirects=False)
    assert first.status_code == 303
    first_id = int(first.headers["location"].rsplit("=", 1)[1])
    again = nurse.form("/subjects/DEMO-002/adverse-events", {**values, "related": "yes"})
    assert again.status_code == 409
    assert f"adverse event {first_id} already records rash grade 2" in again.text
    deliberate = nurse.form(
        "/subjects/DEMO-002/adverse-events",
        {**values, "reason": "a second rash, on the other arm"},
        follow_redirects=False,
    )
    assert deliberate.status_code == 303
    with units() as unit:
        audited = unit.session.exec(
            select(AuditEntry.reason).where(AuditEntry.action == "adverse_event.record")
        ).all()
    assert "a second rash, on the other arm" in audited


def test_the_service_refuses_a_duplicate_whatever_the_letter_case(units, db_url):
    from scheduler.subjects.enrolment import enroll

    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-02", surgery="2026-01-05", site_code="ZJU1")
    with units() as unit:
        first = record_adverse_event(unit, "S-001", term="Rash", grade=2, onset="2026-02-10")
    with units() as unit, pytest.raises(Conflict) as refused:
        record_adverse_event(unit, "S-001", term="rash", grade=2, onset="2026-02-10")
    assert refused.value.field == "term" and f"adverse event {first.record.id}" in str(
        refused.value
    )
    with units() as unit:  # another grade is another event
        record_adverse_event(unit, "S-001", term="rash", grade=3, onset="2026-02-10")
