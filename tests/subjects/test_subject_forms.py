"""Recording from the subject page, as the demo's staff would on 2026-03-02 (the fixed clock):
DEMO-001 is in screening with the screening visit due, DEMO-002 is on C2D5 of 12 mg with doses
from C2D2 unrecorded, DEMO-004 has been on hold since 2026-02-27."""

import re

from sqlmodel import func, select

from scheduler.models import (
    AdverseEvent,
    AuditEntry,
    DoseRecord,
    Hold,
    Resumption,
    Subject,
    VisitRecord,
)


def _count(units, table):
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(table)).one()


def _error_next_to(page: str, form: str, field: str) -> str:
    found = re.search(rf'id="{form}-{field}-error" role="alert">([^<]*)<', page)
    assert found, f"no error shown next to {form}.{field}"
    return found.group(1)


def test_the_header_says_status_dose_level_and_cycle_day_today(staff_client):
    page = staff_client("nurse").get("/subjects/DEMO-002").text
    assert "on_treatment" in page and "12 mg" in page and "dose level 0" in page
    assert "today is cycle 2 day 5" in page and "ZJU1" in page
    assert "<svg" in page and 'href="/subjects/DEMO-002/feed"' in page


def _header(page: str) -> str:
    found = re.search(r'<p class="header">(.*?)</p>', page, re.S)
    assert found, "no header"
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


def test_the_header_names_a_reduced_dose_level_once(staff_client):
    """The protocol labels level -1 "dose level -1": the header says it once, and still adds
    a label that says more ("starting dose")."""
    nurse = staff_client("nurse")
    reduced = _header(nurse.get("/subjects/DEMO-003").text)
    assert "anlotinib 10 mg (dose level -1) &middot;" in reduced
    assert reduced.count("dose level -1") == 1
    starting = _header(nurse.get("/subjects/DEMO-002").text)
    assert "anlotinib 12 mg (dose level 0, starting dose) &middot;" in starting


def test_a_nurse_records_the_screening_visit_done_and_the_audit_names_her(staff_client, units):
    nurse = staff_client("nurse")
    response = nurse.form(
        "/subjects/DEMO-001/visits", {"code": "SCR", "on": "2026-03-02", "reason": ""}
    )
    assert response.status_code == 200 and "Visit recorded." in response.text
    with units() as unit:
        row = unit.session.exec(_demo_001_visits()).one()
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "visit.record")
        ).all()[-1]
    assert row.recorded_by == "test-nurse" and entry.actor == "test-nurse"


def test_a_visit_outside_its_window_is_refused_next_to_the_date_and_nothing_is_stored(
    staff_client, units
):
    before = _count(units, VisitRecord)
    response = staff_client("nurse").form(
        "/subjects/DEMO-001/visits", {"code": "SCR", "on": "2026-02-01"}
    )
    assert response.status_code == 422
    assert "Expected a date between 2026-02-22 and 2026-03-07" in _error_next_to(
        response.text, "visit", "on"
    )
    assert 'value="2026-02-01"' in response.text
    assert _count(units, VisitRecord) == before


def test_a_late_dose_is_recorded_from_the_dose_form(staff_client, units):
    response = staff_client("nurse").form(
        "/subjects/DEMO-002/doses", {"date": "2026-02-27", "outcome": "taken", "at": "10:45"}
    )
    assert response.status_code == 200 and "Dose recorded." in response.text
    with units() as unit:
        row = unit.session.exec(select(DoseRecord).order_by(DoseRecord.id.desc())).first()
    assert (str(row.dose_date), row.taken, row.recorded_by) == ("2026-02-27", True, "test-nurse")


def test_a_dose_in_the_future_is_refused_next_to_the_date(staff_client, units):
    before = _count(units, DoseRecord)
    response = staff_client("nurse").form(
        "/subjects/DEMO-002/doses", {"date": "2026-03-05", "outcome": "taken"}
    )
    assert response.status_code == 422
    assert "in the future" in _error_next_to(response.text, "dose", "date")
    assert _count(units, DoseRecord) == before


def test_a_grade_that_is_not_a_number_is_refused_next_to_the_grade(staff_client, units):
    response = staff_client("nurse").form(
        "/subjects/DEMO-002/adverse-events",
        {"term": "hypertension", "grade": "three", "onset": "2026-03-02", "related": "yes"},
    )
    assert response.status_code == 422
    assert "not a whole number" in _error_next_to(response.text, "ae", "grade")
    assert _count(units, AdverseEvent) == 2  # the demo's two


def test_grade_3_hypertension_shows_the_proposed_hold_then_reduce(staff_client):
    page = staff_client("nurse").form(
        "/subjects/DEMO-002/adverse-events",
        {"term": "hypertension", "grade": "3", "onset": "2026-03-02", "related": "yes"},
    )
    assert page.status_code == 200
    assert "Proposed action: hold, then resume at a lower dose" in page.text
    assert "then resume at 10 mg" in page.text and "Preview the hold from 2026-03-02" in page.text


def test_a_hold_is_previewed_then_confirmed(staff_client, units):
    nurse = staff_client("nurse")
    preview = nurse.get(
        "/subjects/DEMO-002/hold-preview", params={"from": "2026-03-02", "reason": "grade 3 HTN"}
    )
    assert preview.status_code == 200
    assert "Doses lost" in preview.text and "C2 D5&ndash;D14 (2026-03-02 to 2026-03-11)" in (
        preview.text
    )
    assert _count(units, Hold) == 2  # the preview stored nothing
    confirmed = nurse.form(
        "/subjects/DEMO-002/holds", {"from": "2026-03-02", "reason": "grade 3 HTN", "ae": ""}
    )
    assert confirmed.status_code == 200 and "Hold started" in confirmed.text
    assert _count(units, Hold) == 3
    assert 'id="status">on hold' in confirmed.text


def test_a_hold_preview_with_a_bad_date_shows_the_error_on_the_hold_form(staff_client):
    response = staff_client("nurse").get(
        "/subjects/DEMO-002/hold-preview", params={"from": "2026-02-30", "reason": "x"}
    )
    assert response.status_code == 422
    assert "not a real date" in _error_next_to(response.text, "hold", "from")


def test_an_investigator_previews_the_resumption_at_10_mg_and_confirms_it(staff_client, units):
    investigator = staff_client("investigator")
    params = {"on": "2026-03-02", "dose_mg": "10", "reason": "diarrhoea grade 1"}
    preview = investigator.get("/subjects/DEMO-004/resume-preview", params=params)
    assert preview.status_code == 200
    assert "Doses planned again" in preview.text and "12 mg &rarr; 10 mg" in preview.text
    assert _count(units, Resumption) == 1  # the demo's one
    confirmed = investigator.form("/subjects/DEMO-004/resumptions", params)
    assert confirmed.status_code == 200 and "approved: resumption on 2026-03-02 at 10 mg" in (
        confirmed.text
    )  # recorded, and on to its signature
    assert "dose level -1" in investigator.get("/subjects/DEMO-004").text
    assert _count(units, Resumption) == 2


def test_a_nurse_may_not_resume_nor_discontinue(staff_client, units):
    nurse = staff_client("nurse")
    page = nurse.get("/subjects/DEMO-004").text
    assert "Preview the resumption" not in page and "confirmed by an investigator" in page
    refused = nurse.form("/subjects/DEMO-004/resumptions", {"on": "2026-03-02"})
    assert refused.status_code == 403 and "needs the role investigator" in refused.text
    refused = nurse.get("/subjects/DEMO-004/resume-preview", params={"on": "2026-03-02"})
    assert refused.status_code == 403
    assert _count(units, Resumption) == 1


def test_an_investigator_discontinues_for_toxicity_through_a_preview_then_signs(
    staff_client, units
):
    investigator = staff_client("investigator")
    values = {"on": "2026-03-02", "reason": "toxicity", "note": "diarrhoea not resolving"}
    preview = investigator.get("/subjects/DEMO-004/discontinue-preview", params=values)
    assert preview.status_code == 200 and "Discontinuation is permanent" in preview.text
    assert 'name="confirm" value="yes" required' in preview.text
    unconfirmed = investigator.form("/subjects/DEMO-004/discontinuation", values)
    assert unconfirmed.status_code == 422 and "confirm the discontinuation" in unconfirmed.text
    response = investigator.form("/subjects/DEMO-004/discontinuation", {**values, "confirm": "yes"})
    assert response.status_code == 200 and "sign discontinuation-" in response.text
    assert 'id="status">discontinued' in investigator.get("/subjects/DEMO-004").text


def test_the_discontinuation_form_preselects_no_reason(staff_client):
    page = staff_client("investigator").get("/subjects/DEMO-002").text
    form = page[page.index('id="discontinue-form"') :]
    form = form[: form.index("</form>")]
    assert "selected" not in form and '<option value="">(choose a reason)</option>' in form
    refused = staff_client("investigator").get(
        "/subjects/DEMO-002/discontinue-preview", params={"on": "2026-03-02", "reason": ""}
    )
    assert refused.status_code == 422


def test_a_pharmacist_reads_the_subject_page_but_is_refused_every_form(staff_client, units):
    pharmacist = staff_client("pharmacist")
    page = pharmacist.get("/subjects/DEMO-001")
    assert page.status_code == 200 and "Read only" in page.text and "Record visit" not in page.text
    refused = pharmacist.form("/subjects/DEMO-001/visits", {"code": "SCR", "on": "2026-03-02"})
    assert refused.status_code == 403 and "pharmacist" in refused.text
    with units() as unit:
        assert unit.session.exec(_demo_001_visits()).all() == []


def _demo_001_visits():
    return select(VisitRecord).join(Subject).where(Subject.code == "DEMO-001")


def test_a_hold_from_the_year_9999_is_refused_naming_the_date(staff_client, units):
    response = staff_client("nurse").form(
        "/subjects/DEMO-002/holds", {"from": "9999-12-31", "reason": "typo"}
    )
    assert response.status_code == 422
    assert "outside 1900-2199" in _error_next_to(response.text, "hold", "from")
    assert _count(units, Hold) == 2


def test_the_ae_form_offers_the_protocols_terms_and_the_resume_form_its_lower_levels(
    staff_client,
):
    page = staff_client("investigator").get("/subjects/DEMO-004").text
    terms = re.search(r'<datalist id="ctcae-terms">(.*?)</datalist>', page, re.S).group(1)
    for term in (
        "hypertension",
        "proteinuria",
        "neutrophil count decreased",
        "hemorrhage",
        "palmar-plantar erythrodysesthesia syndrome",
    ):
        assert f'<option value="{term}">' in terms
    levels = re.search(r'<select name="dose_mg"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert "keep 12 mg" in levels and "reduce to 10 mg (level -1)" in levels
    assert "reduce to 8 mg (level -2)" in levels


def test_a_field_the_form_does_not_show_is_named_at_the_top_of_the_form(staff_client, units):
    before = _count(units, DoseRecord)
    response = staff_client("nurse").form(
        "/subjects/DEMO-002/doses", {"date": "2026-02-27", "outcome": "taken", "slot": "2"}
    )
    assert response.status_code == 422
    assert "slot: 2 is not an administration of the day (1..1)" in response.text
    assert _count(units, DoseRecord) == before


def test_a_correction_without_a_reason_asks_for_one_in_the_pages_words(staff_client):
    response = staff_client("nurse").form(
        "/subjects/DEMO-002/visits", {"code": "C1D1", "on": "2026-03-02"}
    )
    assert response.status_code == 409
    message = _error_next_to(response.text, "visit", "code")
    assert "already recorded on 2026-02-05; give a reason to correct" in message
    assert "--reason" not in message


def test_an_unknown_subject_is_a_404_page_for_people_and_stores_nothing(staff_client, units):
    nurse = staff_client("nurse")
    page = nurse.get("/subjects/GHOST")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "<h1>No such subject</h1>" in page.text and "no subject &#39;GHOST&#39;" in page.text
    before = _count(units, AuditEntry)
    posted = nurse.form("/subjects/GHOST/visits", {"code": "SCR", "on": "2026-03-02"})
    assert posted.status_code == 404 and "No such subject" in posted.text
    assert _count(units, AuditEntry) == before


def test_a_failed_confirmation_stores_neither_the_hold_nor_its_audit_entry(staff_client, units):
    nurse = staff_client("nurse")
    before = (_count(units, Hold), _count(units, AuditEntry))
    response = nurse.form(
        "/subjects/DEMO-002/holds", {"from": "2026-02-20", "reason": "grade 3 HTN", "ae": ""}
    )
    assert response.status_code == 409
    assert "doses are recorded on" in _error_next_to(response.text, "hold", "from")
    assert (_count(units, Hold), _count(units, AuditEntry)) == before


def test_a_later_resumption_preview_shows_where_cycle_day_1s_and_visits_move(staff_client):
    params = {"on": "2026-03-20", "dose_mg": "10"}
    refused = staff_client("investigator").get("/subjects/DEMO-004/resume-preview", params=params)
    assert refused.status_code == 422  # 21 days on hold: beyond the limit, the PI says why
    assert "21 days, 7 over the 14-day limit" in _error_next_to(refused.text, "resume", "reason")
    preview = staff_client("investigator").get(
        "/subjects/DEMO-004/resume-preview", params={**params, "reason": "PI: continue"}
    )
    assert preview.status_code == 200
    text = preview.text
    assert "Cycle day 1 moves" in text and "Visits move" in text
    assert "C3D1: 2026-03-14 &rarr; 2026-03-20 (+6 days)" in text
    assert "EOT: 2026-08-07 &rarr; 2026-08-13 (+6 days)" in text
    assert "C3 D1&ndash;D14 (2026-03-20 to 2026-04-02): 14 doses" in text
    assert 'name="dose_mg" value="10"' in text  # carried to the confirm form
