"""Confirming day-1 criteria from the page, on 2026-03-02 (the fixed clock): DEMO-002 is in
cycle 2, so cycle 3's criteria may be assessed; the worklist row that asks for a check links to
this form."""

from sqlmodel import select

from scheduler.kernel.subject_state import plan_for
from scheduler.models import Day1Check
from scheduler.pharmacy.day1_pages import not_met_reason


def _checks(units):
    with units() as unit:
        return unit.session.exec(select(Day1Check)).all()


def test_not_met_names_the_failing_criterion_and_the_cycle_waits(staff_client, units, clock):
    nurse = staff_client("nurse")
    form = nurse.get("/subjects/DEMO-002/day1?cycle=3")
    assert form.status_code == 200 and "ANC: ANC &gt;= 1.5 x10^9/L" in form.text
    before = len(_checks(units))
    response = nurse.form(
        "/subjects/DEMO-002/day1",
        {"cycle": "3", "outcome": "not_met", "criterion": "ANC", "reason": "1.1", "on": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/subjects/DEMO-002?done=day1-not_met"
    checks = _checks(units)
    assert len(checks) == before + 1
    assert checks[-1].reason == "ANC: ANC >= 1.5 x10^9/L (1.1)" and not checks[-1].met
    with units() as unit:
        waiting = plan_for(unit.session, "DEMO-002", clock.now()).waiting_for_criteria()
    assert waiting is not None and waiting.cycle == 3


def test_not_met_without_a_criterion_is_refused_at_the_top_and_next_to_the_field(
    staff_client, units
):
    nurse = staff_client("nurse")
    before = len(_checks(units))
    response = nurse.form(
        "/subjects/DEMO-002/day1",
        {"cycle": "3", "outcome": "not_met", "criterion": "", "reason": "", "on": "2026-03-02"},
    )
    assert response.status_code == 422
    assert 'href="#day1-criterion"' in response.text
    assert 'id="day1-criterion-error" role="alert">choose the criterion' in response.text
    assert 'value="not_met" checked' in response.text
    assert len(_checks(units)) == before


def test_the_worklist_row_asking_for_the_check_links_to_the_form(staff_client):
    nurse = staff_client("nurse")
    worklist = nurse.get("/?date=2026-03-18").text  # C3D1 of DEMO-002 is 2026-03-19
    link = 'href="/subjects/DEMO-002/day1?cycle=3">Confirm day-1 criteria</a>'
    assert link in worklist
    assert link not in staff_client("pharmacist").get("/?date=2026-03-18").text


def test_a_date_in_the_future_is_the_services_refusal(staff_client):
    response = staff_client("nurse").form(
        "/subjects/DEMO-002/day1",
        {"cycle": "3", "outcome": "met", "criterion": "", "reason": "", "on": "2026-03-09"},
    )
    assert response.status_code == 422 and 'id="day1-on-error"' in response.text
    assert "is in the future" in response.text


def test_a_pharmacist_may_not_record_a_day1_check(staff_client):
    assert staff_client("pharmacist").get("/subjects/DEMO-002/day1?cycle=3").status_code == 403


def test_the_stored_reason_is_the_protocols_wording():
    from scheduler.protocols.schema import Day1Criterion

    criteria = (Day1Criterion(code="PLT", description="platelets >= 75 x10^9/L"),)
    assert not_met_reason(criteria, "PLT", "") == "PLT: platelets >= 75 x10^9/L"
    assert not_met_reason(criteria, "", "patient unwell") == "patient unwell"
