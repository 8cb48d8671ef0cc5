"""`dosing lab`, `dosing labs`, `dosing baseline`, the labs page and the JSON API: one service
behind each, bad input named with exit 2 or a 4xx and nothing stored. The CLI subject started
in January 2026, so its dates are in the past whatever the wall clock reads; the web tests run
on the demo trial at the suite's fixed clock (2026-03-02, DEMO-002 on cycle 2 day 5)."""

from __future__ import annotations

import json

import pytest
from cli_runner import run
from sqlmodel import func, select

from scheduler.models import LabResult


@pytest.fixture
def db(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'labs.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    args = ("enroll", "S-003", "--c1d1", "2026-01-05", "--surgery", "2025-12-01", "--db", url)
    assert run(capsys, *args)[0] == 0
    return ("--db", url)


def test_dosing_lab_prints_the_grade_and_the_proposed_action(capsys, db):
    base = ("lab", "S-003", "--test", "ALT", "--unit", "U/L", "--uln", "40", *db)
    code, out, err = run(capsys, *base, "--value", "35", "--on", "2025-12-29")
    assert (code, err) == (0, "")
    assert out == "S-003 ALT 35 U/L on 2025-12-29: grade 0\n"
    code, out, err = run(capsys, *base, "--value", "250", "--on", "2026-01-20")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "S-003 ALT 250 U/L on 2026-01-20: grade 3"
    assert lines[1].startswith(
        "recorded adverse event 1: alanine aminotransferase increased grade 3"
    )
    assert "proposed action: hold_then_reduce (resume at 10 mg)" in lines[1]


def test_dosing_labs_lists_grades_and_marks_the_baseline_and_json_says_the_same(capsys, db):
    base = ("lab", "S-003", "--test", "TBIL", "--unit", "umol/L", "--uln", "20.5", *db)
    assert run(capsys, *base, "--value", "30", "--on", "2025-12-29")[0] == 0
    assert run(capsys, *base, "--value", "70", "--on", "2026-01-20")[0] == 0
    code, out, _ = run(capsys, "labs", "S-003", *db)
    assert code == 0
    assert "TBIL *" in out and "30 umol/L" in out
    code, out, _ = run(capsys, "labs", "S-003", "--json", *db)
    data = json.loads(out)
    assert [(r["test"], r["grade"], r["baseline"]) for r in data["results"]] == [
        ("TBIL", 1, True),  # 1.46 x ULN
        ("TBIL", 2, False),  # 2.33 x an abnormal baseline
    ]
    assert data["results"][0]["standard_unit"] == "mg/dL"


def test_dosing_baseline_corrects_with_a_reason(capsys, db):
    base = ("lab", "S-003", "--test", "AST", "--unit", "U/L", "--uln", "35", *db)
    assert run(capsys, *base, "--value", "30", "--on", "2025-12-20")[0] == 0
    assert run(capsys, *base, "--value", "90", "--on", "2025-12-29")[0] == 0
    code, out, err = run(
        capsys, "baseline", "S-003", "--test", "AST", "--result", "1", "--reason", "haemolysed", *db
    )
    assert (code, err) == (0, "")
    assert out == "S-003 AST baseline is now result 1\n"
    data = json.loads(run(capsys, "labs", "S-003", "--json", *db)[1])
    assert data["baselines"]["AST"] == {"result": 1, "corrected": True, "reason": "haemolysed"}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--test", "XYZ", "--value", "1", "--unit", "U/L"), "test"),
        (("--test", "ALT", "--value", "88", "--unit", "mmol/L", "--uln", "40"), "unit"),
        (("--test", "ALT", "--value", "-88", "--unit", "U/L", "--uln", "40"), "value"),
        (("--test", "ANC", "--value", "2", "--unit", "10^9/L", "--lln", "2", "--uln", "1"), "lln"),
    ],
)
def test_bad_input_exits_2_naming_the_field_and_stores_nothing(capsys, db, args, field):
    code, out, err = run(capsys, "lab", "S-003", *args, "--on", "2026-01-20", *db)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {field}: ") and err.count("\n") == 1
    data = json.loads(run(capsys, "labs", "S-003", "--json", *db)[1])
    assert data["results"] == []


def _count(units) -> int:
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(LabResult)).one()


def test_the_labs_page_records_a_result_and_shows_its_grade(staff_client, units):
    nurse = staff_client("nurse")
    assert 'href="/subjects/DEMO-002/labs"' in nurse.get("/subjects/DEMO-002").text
    form = {"test": "PLT", "value": "60", "unit": "10^9/L", "lln": "125", "date": "2026-03-02"}
    response = nurse.form("/subjects/DEMO-002/labs", form, follow_redirects=False)
    assert response.status_code == 303
    page = nurse.get(response.headers["location"]).text
    assert "Result recorded." in page
    assert "<td>60 10^9/L</td>" in page and "<td>2</td>" in page


def test_the_labs_page_names_a_refused_field_and_stores_nothing(staff_client, units):
    nurse = staff_client("nurse")
    form = {"test": "ALT", "value": "88", "unit": "U/L", "uln": "", "date": "2026-03-02"}
    response = nurse.form("/subjects/DEMO-002/labs", form)
    assert response.status_code == 422
    assert "Not recorded: uln:" in response.text
    assert _count(units) == 0


def test_the_api_records_and_lists_results_and_answers_the_proposal(staff_client, units):
    nurse = staff_client("nurse")
    body = {"test": "ALT", "value": "250", "unit": "U/L", "uln": 40, "date": "2026-03-02"}
    response = nurse.post("/api/subjects/DEMO-002/labs", json=body)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["results"][0]["grade"] == 3
    assert answer["adverse_events"][0]["proposal"]["rule"] == "liver-g3"
    listed = nurse.get("/api/subjects/DEMO-002/labs").json()
    assert [r["test"] for r in listed["results"]] == ["ALT"]


def test_the_api_refuses_a_unit_that_does_not_fit_naming_it(staff_client, units):
    nurse = staff_client("nurse")
    body = {"test": "ALT", "value": "88", "unit": "g/L", "uln": 40, "date": "2026-03-02"}
    response = nurse.post("/api/subjects/DEMO-002/labs", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "unit"
    assert _count(units) == 0


def test_the_labs_api_is_documented(web_app):
    schema = web_app.openapi()
    assert "/api/subjects/{code}/labs" in schema["paths"]
    assert "/api/subjects/{code}/labs/baselines" in schema["paths"]


def test_dosing_export_lb_writes_sdtm_lb_rows_with_grade_and_baseline_flag(capsys, db):
    base = ("lab", "S-003", "--test", "TBIL", "--unit", "umol/L", "--uln", "20.5", *db)
    assert run(capsys, *base, "--value", "30", "--on", "2025-12-29")[0] == 0
    assert run(capsys, *base, "--value", "70", "--on", "2026-01-20")[0] == 0
    bp = ("lab", "S-003", "--test", "BP", "--value", "150/90", "--unit", "mmHg")
    assert run(capsys, *bp, "--on", "2026-01-20", *db)[0] == 0
    code, out, err = run(capsys, "export", "lb", *db)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (
        "STUDYID,DOMAIN,USUBJID,LBSEQ,LBTESTCD,LBTEST,LBORRES,LBORRESU,LBORNRLO,LBORNRHI,"
        "LBSTRESC,LBSTRESN,LBSTRESU,LBSTNRLO,LBSTNRHI,LBTOXGR,LBBLFL,LBDTC"
    )
    assert lines[1:] == [
        "NCT03945799,LB,NCT03945799-ZJU1-S-003,1,BILI,Total bilirubin,30,umol/L,,20.5,"
        "1.75398,1.75398,mg/dL,,1.19855,1,Y,2025-12-29",
        "NCT03945799,LB,NCT03945799-ZJU1-S-003,2,BILI,Total bilirubin,70,umol/L,,20.5,"
        "4.09262,4.09262,mg/dL,,1.19855,2,,2026-01-20",
    ]


def test_the_labs_page_shows_the_next_day_1_check_and_the_eligibility_checklist(staff_client):
    page = staff_client("nurse").get("/subjects/DEMO-002/labs").text
    assert "Cycle 3 day-1 criteria: incomplete" in page
    assert "ANC &gt;= 1.5 x10^9/L" in page
    assert "Eligibility checklist" in page and "0 of 23 criteria met," in page
    assert 'href="/subjects/DEMO-002/eligibility"' in page


def test_the_api_computes_day_1_and_only_an_investigator_confirms_it(staff_client, units):
    nurse, investigator = staff_client("nurse"), staff_client("investigator")
    computed = nurse.get("/api/subjects/DEMO-002/day1/3").json()
    assert computed["cycle"] == 3 and computed["verdict"] == "incomplete"
    assert nurse.post("/api/subjects/DEMO-002/day1/3/confirm", json={}).status_code == 403
    refused = investigator.post("/api/subjects/DEMO-002/day1/3/confirm", json={})
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "cycle"


def test_the_eligibility_api_answers_waives_and_logs(staff_client, units):
    nurse, investigator = staff_client("nurse"), staff_client("investigator")
    answer = {"criterion": "AGE", "answer": "80", "source": "ID card"}
    response = nurse.post("/api/subjects/DEMO-001/eligibility/answers", json=answer)
    assert response.status_code == 201, response.text
    age = next(c for c in response.json()["criteria"] if c["code"] == "AGE")
    assert (age["met"], age["source"]) == (False, "ID card")
    waiver = {"criterion": "AGE", "reason": "fit, sponsor agreed"}
    assert nurse.post("/api/subjects/DEMO-001/eligibility/waivers", json=waiver).status_code == 403
    response = investigator.post("/api/subjects/DEMO-001/eligibility/waivers", json=waiver)
    age = next(c for c in response.json()["criteria"] if c["code"] == "AGE")
    assert age["waived"] == "fit, sponsor agreed"
    log = nurse.get("/api/screening-log").json()
    assert log["counts"]["screened"] == len(log["subjects"])
