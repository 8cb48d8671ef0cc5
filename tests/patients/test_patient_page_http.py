"""The patient page over HTTP: a phone page behind a secret link, in the subject's language,
with its own headers (no script, no caching); 404 for an unknown link, 410 for a withdrawn one,
429 past the per-token throttle; reports and refusals; the staff side that hands it out. On
SQLite and PostgreSQL; the app's clock reads 2026-03-02 12:00 in Shanghai (C1D1 of S-1)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from scheduler.app.web import create_app
from scheduler.models import AuditEntry, PatientReport
from scheduler.patients.links import issue_link
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll
from scheduler.web.security_headers import PATIENT_CONTENT_SECURITY_POLICY

REQUESTS_PER_WINDOW = 8


@pytest.fixture
def app(web_app, units, db_url, clock):
    with units() as unit:
        for code, language in (("P-1", "zh_CN"), ("P-2", "en")):
            enroll(
                unit,
                code,
                c1d1="2026-03-02",
                surgery="2026-01-20",
                dose_time="07:00",
                site_code="ZJU1",
                language=language,
            )
    settings = Settings(
        database_url=db_url, user="web", patient_requests_per_window=REQUESTS_PER_WINDOW
    )
    return create_app(settings, clock)


def _link(units, code="P-1"):
    with units() as unit:
        return issue_link(unit, Settings(database_url="sqlite://"), code).token


def test_the_page_is_the_subject_s_own_today_in_chinese_with_its_own_headers(app, units):
    token = _link(units)
    _link(units, "P-2")
    page = TestClient(app).get(f"/p/{token}")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text or 'lang="zh' in page.text
    assert "今天，3月2日 星期一" in page.text
    assert "您应在07:00服药。" in page.text and "我已服药" in page.text
    assert "家庭血压" in page.text  # cycle 1 dosing day: a home reading is asked for
    assert "您的下次预约" in page.text and "+86 571 0000 0000" in page.text
    assert "P-1" not in page.text and "P-2" not in page.text and "nlotinib" not in page.text
    assert page.headers["content-security-policy"] == PATIENT_CONTENT_SECURITY_POLICY
    assert "script-src" not in PATIENT_CONTENT_SECURITY_POLICY  # default-src 'none': no script
    assert "<script" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in page.headers


def test_reporting_a_dose_and_a_reading_through_the_page(app, units):
    token = _link(units)
    client = TestClient(app)
    taken = client.post(f"/p/{token}/dose", data={"slot": "1", "taken": "yes", "at": "07:20"})
    assert taken.status_code == 200
    assert "已保存：您3月2日 星期一在07:20服药。" in taken.text
    assert "已于07:20服药。" in taken.text  # the page now says so
    again = client.post(f"/p/{token}/dose", data={"slot": "1", "taken": "no"})
    assert "保留您的第一次报告" in again.text
    reading = client.post(f"/p/{token}/reading", data={"systolic": "165", "diastolic": "95"})
    assert "已保存：您3月2日 星期一的血压 165/95。" in reading.text
    later = client.post(f"/p/{token}/dose", data={"slot": "1", "taken": "yes", "at": "25:00"})
    assert "已保存" not in later.text
    with units() as unit:
        rows = unit.session.exec(select(PatientReport)).all()
        audit = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action.startswith("patient_report."))
        ).all()
    assert sorted(r.kind for r in rows) == ["bp", "dose"]
    assert {e.actor for e in audit} == {rows[0].recorded_by}


def test_a_refused_report_says_why_in_the_patient_s_language(app, units):
    token = _link(units, "P-2")
    refused = TestClient(app).post(
        f"/p/{token}/dose", data={"slot": "1", "taken": "yes", "at": "13:00"}
    )
    assert refused.status_code == 422
    assert "13:00 is later than now. Nothing was saved." in refused.text


def test_an_unknown_link_is_404_and_a_withdrawn_one_410(app, units, staff_client):
    client = TestClient(app)
    unknown = client.get("/p/no-such-token", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert unknown.status_code == 404 and "此页面不存在" in unknown.text
    token = _link(units)
    nurse = staff_client("nurse")
    preview = nurse.get("/subjects/P-1/patient-page/revoke-preview")
    assert preview.status_code == 200
    withdrawn = nurse.form(
        "/subjects/P-1/patient-page/revoke",
        {"reason": "phone lost", "confirm": "yes"},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    gone = client.get(f"/p/{token}")
    assert gone.status_code == 410 and "此链接已失效" in gone.text
    assert client.post(f"/p/{token}/dose", data={"taken": "no"}).status_code == 410


def test_the_page_is_throttled_per_token(app, units):
    token, other = _link(units), _link(units, "P-2")
    client = TestClient(app)
    for _ in range(REQUESTS_PER_WINDOW):
        assert client.get(f"/p/{token}").status_code == 200
    throttled = client.get(f"/p/{token}")
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    assert client.get(f"/p/{other}").status_code == 200  # another link is not slowed


def test_a_nurse_issues_the_link_with_a_qr_code_and_prints_it_on_the_handout(
    app, units, staff_client
):
    nurse = staff_client("nurse")
    issued = nurse.form("/subjects/P-1/patient-page", {"alert_unreported": "yes"})
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    url = re.search(r'id="patient-url">([^<]+)<', issued.text).group(1)
    token = url.rsplit("/p/", 1)[1]
    assert "<svg" in issued.text
    assert TestClient(app).get(f"/p/{token}").status_code == 200
    handout = nurse.form("/subjects/P-1/handout", {"page_token": token})
    assert handout.status_code == 200 and 'id="patient-page-qr"' in handout.text
    assert "扫码报告服药情况" in handout.text
    status = nurse.get("/api/subjects/P-1/patient-link").json()
    assert status["live"] and status["alert_unreported"]
    with units() as unit:
        [entry] = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "patient_link.issue")
        ).all()
    assert entry.actor == "test-nurse"


def test_replacing_a_live_link_takes_a_reason_and_a_tick_and_only_then_stops_the_old_one(
    app, units, staff_client
):
    """The patient holding the live link loses their page when it is replaced: the staff
    page's button previews that, and a post without the reason and the tick (an older page's
    button) gets the same confirmation page and changes nothing."""
    old = _link(units)
    client = TestClient(app)
    nurse = staff_client("nurse")
    staff_page = nurse.get("/subjects/P-1/patient-page")
    assert 'action="/subjects/P-1/patient-page/reissue-preview"' in staff_page.text
    preview = nurse.get("/subjects/P-1/patient-page/reissue-preview")
    assert preview.status_code == 200 and "stops working at once" in preview.text
    unconfirmed = nurse.form("/subjects/P-1/patient-page", {})
    assert unconfirmed.status_code == 200 and "stops working at once" in unconfirmed.text
    assert 'id="patient-url"' not in unconfirmed.text
    without_tick = nurse.form("/subjects/P-1/patient-page", {"reason": "phone replaced"})
    assert without_tick.status_code == 422 and 'id="patient-url"' not in without_tick.text
    assert client.get(f"/p/{old}").status_code == 200
    issued = nurse.form(
        "/subjects/P-1/patient-page", {"reason": "phone replaced", "confirm": "yes"}
    )
    assert issued.status_code == 200 and 'id="patient-url"' in issued.text
    new = re.search(r'id="patient-url">[^<]*/p/([^<]+)<', issued.text).group(1)
    assert client.get(f"/p/{old}").status_code == 410
    assert client.get(f"/p/{new}").status_code == 200
    with units() as unit:
        actions = unit.session.exec(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.reason).where(
                AuditEntry.action.in_(["patient_link.revoke", "patient_link.rotate"])
            )
        ).all()
    assert sorted(actions) == [
        ("patient_link.revoke", "test-nurse", "phone replaced"),
        ("patient_link.rotate", "test-nurse", "phone replaced"),
    ]


def test_the_subject_page_shows_the_reports_beside_the_verified_records(app, units, staff_client):
    token = _link(units)
    TestClient(app).post(f"/p/{token}/dose", data={"slot": "1", "taken": "yes", "at": "07:20"})
    nurse = staff_client("nurse")
    page = nurse.get("/subjects/P-1")
    assert 'id="patient-reports"' in page.text and "taken at 07:20" in page.text
    staff_page = nurse.get("/subjects/P-1/patient-page")
    report_id = re.search(r'id="confirm-(\d+)"', staff_page.text).group(1)
    confirmed = nurse.form(f"/subjects/P-1/patient-reports/{report_id}", {"outcome": "confirm"})
    assert confirmed.status_code == 200 and "confirmed (test-nurse)" in confirmed.text
    assert "taken 07:20" in confirmed.text  # now the verified record
    pharmacy = staff_client("pharmacist").get("/pharmacy/subjects/P-1")
    assert "Reported by the patient: 1 taken" in pharmacy.text


def test_the_api_issues_lists_and_reviews(app, units, staff_client):
    nurse = staff_client("nurse")
    issued = nurse.post("/api/subjects/P-2/patient-link", json={})
    assert issued.status_code == 201
    token = issued.json()["url"].rsplit("/p/", 1)[1]
    TestClient(app).post(f"/p/{token}/dose", data={"slot": "1", "taken": "no"})
    listed = nurse.get("/api/subjects/P-2/patient-reports").json()
    [report] = listed["reports"]
    assert report["taken"] is False and report["review"] is None
    assert listed["counts"]["reported_not_taken"] == 1
    corrected = nurse.post(
        f"/api/subjects/P-2/patient-reports/{report['id']}/review",
        json={"outcome": "correct", "taken": True, "at": "09:00", "reason": "found the pill"},
    )
    assert corrected.status_code == 201 and corrected.json()["outcome"] == "corrected"
    refused = nurse.post("/api/subjects/P-2/patient-link/revoke", json={"reason": ""})
    assert refused.status_code == 422
    assert nurse.post("/api/subjects/P-2/patient-link/revoke", json={"reason": "ended"}).json() == {
        "revoked": 1
    }
