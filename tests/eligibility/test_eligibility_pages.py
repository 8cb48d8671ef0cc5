"""Screening from the page, as a nurse and an investigator do it for DEMO-001 (in screening,
C1D1 in six days): answers with their source document, a refused answer that keeps what was
typed, the investigator's waiver, a screen failure behind its preview, and the screening log.
On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from scheduler.kernel.subject_state import subject_state
from scheduler.models import AuditEntry, EligibilityAnswer, EligibilityWaiver, ScreenFailure

PAGE = "/subjects/DEMO-001/eligibility"


def _rows(units, model):
    with units() as unit:
        return list(unit.session.exec(select(model)))


def test_a_nurse_answers_a_criterion_with_its_source_document(staff_client, units):
    nurse = staff_client("nurse")
    answer = {"criterion": "AGE", "answer": "54", "source": "ID card"}
    response = nurse.form(f"{PAGE}/answers", answer, follow_redirects=False)
    assert response.status_code == 303
    page = nurse.get(response.headers["location"]).text
    assert "Answer recorded." in page
    assert "54 (ID card)" in page
    [row] = _rows(units, EligibilityAnswer)
    assert (row.criterion, row.answer, row.source_document) == ("AGE", "54", "ID card")
    assert row.recorded_by == nurse.staff.name


def test_a_refused_answer_names_the_field_keeps_the_input_and_stores_nothing(staff_client, units):
    nurse = staff_client("nurse")
    answer = {"criterion": "AGE", "answer": "fifty", "source": "ID card"}
    response = nurse.form(f"{PAGE}/answers", answer)
    assert response.status_code == 422
    page = response.text
    assert "Nothing was recorded" in page and 'href="#answer-AGE-answer"' in page
    assert "is not a number" in page
    assert 'id="answer-AGE-answer" aria-invalid="true"' in page
    assert 'value="fifty"' in page and 'value="ID card"' in page
    assert _rows(units, EligibilityAnswer) == []


def test_lab_criteria_are_read_from_the_results_and_offer_no_answer_form(staff_client):
    page = staff_client("nurse").get(PAGE).text
    assert 'id="criterion-CRCL"' in page and "from the recorded results" in page
    assert 'id="answer-CRCL-form"' not in page
    assert 'id="answer-AGE-form"' in page


def test_only_an_investigator_waives_and_the_waiver_is_audited_with_its_reason(staff_client, units):
    nurse, investigator = staff_client("nurse"), staff_client("investigator")
    assert 'id="waive-AGE-form"' not in nurse.get(PAGE).text
    waiver = {"criterion": "AGE", "reason": "fit, sponsor agreed"}
    assert nurse.form(f"{PAGE}/waivers", waiver).status_code == 403
    refused = investigator.form(f"{PAGE}/waivers", {"criterion": "AGE", "reason": " "})
    assert refused.status_code == 422 and 'href="#waive-AGE-reason"' in refused.text
    assert _rows(units, EligibilityWaiver) == []
    response = investigator.form(f"{PAGE}/waivers", waiver, follow_redirects=False)
    assert response.status_code == 303
    assert "waived: fit, sponsor agreed" in investigator.get(PAGE).text
    with units() as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "eligibility.waive")
        ).one()
    assert (entry.actor, entry.reason) == (investigator.staff.name, "fit, sponsor agreed")


def test_a_screen_failure_is_previewed_then_confirmed_and_the_log_counts_it(staff_client, units):
    nurse, investigator = staff_client("nurse"), staff_client("investigator")
    nurse.form(f"{PAGE}/answers", {"criterion": "AGE", "answer": "80", "source": "ID card"})
    assert 'id="screen-failure-link"' in investigator.get(PAGE).text
    preview = investigator.get("/subjects/DEMO-001/screen-failure-preview").text
    assert "criteria not met: AGE: age 18-75" in preview
    assert "Nothing is changed until you confirm" in preview
    unconfirmed = {"on": "", "reason": "too old"}
    refused = investigator.form("/subjects/DEMO-001/screen-failure", unconfirmed)
    assert refused.status_code == 422 and "tick the confirmation" in refused.text
    assert _rows(units, ScreenFailure) == []
    confirmed = investigator.form(
        "/subjects/DEMO-001/screen-failure",
        {**unconfirmed, "on": _today(units).isoformat(), "confirm": "yes"},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    [failure] = _rows(units, ScreenFailure)
    assert (failure.criteria, failure.reason) == ("AGE", "too old")
    log = nurse.get("/screening-log").text
    assert "DEMO-001" in log and "AGE: too old" in log
    assert "<li>AGE: 1</li>" in log


def test_a_nurse_cannot_record_a_screen_failure(staff_client, units):
    nurse = staff_client("nurse")
    assert "screen-failure-link" not in nurse.get(PAGE).text
    data = {"on": "", "reason": "too old", "confirm": "yes"}
    assert nurse.form("/subjects/DEMO-001/screen-failure", data).status_code == 403
    assert _rows(units, ScreenFailure) == []


def _today(units):
    with units() as unit:
        return subject_state(unit.session, "DEMO-001", unit.now).today
