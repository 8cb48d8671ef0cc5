"""Enrolling from the page (2026-03-02, the fixed clock) with the CLI's checks and reasons: a
refusal shows the summary at the top, the reason next to the field, what was typed, and stores
nothing."""

import re

from sqlmodel import func, select

from scheduler.models import AuditEntry, Subject


def _count(units, table):
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(table)).one()


GOOD = {
    "subject": "S-014",
    "site": "ZJU1",
    "protocol": "NCT03945799",
    "c1d1": "2026-03-09",
    "surgery": "2026-02-01",
    "tz": "",
    "dose_time": "",
    "reason": "",
}


def test_a_nurse_enrols_a_subject_and_lands_on_the_new_plan(staff_client, units):
    nurse = staff_client("nurse")
    form = nurse.get("/subjects/new")
    assert form.status_code == 200 and 'id="enrol-form"' in form.text
    response = nurse.form("/subjects", GOOD, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/subjects/S-014?done=enrol"
    page = nurse.get(response.headers["location"]).text
    assert "Subject enrolled" in page and "C1D1 2026-03-09" in page
    with units() as unit:
        subject = unit.session.exec(select(Subject).where(Subject.code == "S-014")).one()
        entry = unit.session.exec(
            select(AuditEntry)
            .where(AuditEntry.action == "subject.enroll")
            .order_by(AuditEntry.id.desc())
        ).first()
    assert subject.time_zone == "Asia/Shanghai" and subject.dose_time.strftime("%H:%M") == "07:00"
    assert entry.actor == "test-nurse" and entry.subject_id == subject.id


def test_a_missing_surgery_date_is_refused_as_the_cli_refuses_it(staff_client, units):
    nurse = staff_client("nurse")
    before = (_count(units, Subject), _count(units, AuditEntry))
    response = nurse.form("/subjects", {**GOOD, "surgery": ""})
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.S).group(0)
    assert "Nothing was recorded" in summary and 'href="#enrol-surgery"' in summary
    assert "counts visits or enrolment from the surgery date: give the surgery date" in summary
    assert 'id="enrol-surgery" aria-invalid="true"' in response.text
    assert "autofocus" in re.search(r'<input[^>]*id="enrol-surgery"[^>]*>', response.text).group(0)
    assert 'value="S-014"' in response.text and 'value="2026-03-09"' in response.text
    assert (_count(units, Subject), _count(units, AuditEntry)) == before


def test_c1d1_outside_the_interval_needs_the_investigators_reason(staff_client, units):
    nurse = staff_client("nurse")
    late = {**GOOD, "c1d1": "2026-04-30"}  # 88 days after the surgery; 28-56 allowed
    refused = nurse.form("/subjects", late)
    assert refused.status_code == 422 and 'href="#enrol-reason"' in refused.text
    assert "give a reason" in refused.text
    accepted = nurse.form(
        "/subjects", {**late, "reason": "PI: wound healing"}, follow_redirects=False
    )
    assert accepted.status_code == 303
    with units() as unit:
        deviation = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "subject.enrolment_deviation")
        ).all()
    assert [d.reason for d in deviation][-1] == "PI: wound healing"


def test_a_code_already_enrolled_and_a_bad_zone_are_named(staff_client):
    nurse = staff_client("nurse")
    taken = nurse.form("/subjects", {**GOOD, "subject": "DEMO-001"})
    assert taken.status_code == 409 and "&#39;DEMO-001&#39; is already enrolled" in taken.text
    zone = nurse.form("/subjects", {**GOOD, "tz": "Mars/Olympus"})
    assert zone.status_code == 422 and 'id="enrol-tz-error"' in zone.text


def test_a_pharmacist_may_not_enrol(staff_client, units):
    pharmacist = staff_client("pharmacist")
    assert pharmacist.get("/subjects/new").status_code == 403
    assert pharmacist.form("/subjects", GOOD).status_code == 403
    assert _count(units, Subject) == 5
