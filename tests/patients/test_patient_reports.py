"""What a patient reports through their private page: kept as patient-reported (apart from the
dose records), refused for a rest day, a held day or a future day in words the patient reads,
kept once when sent twice, and confirmed or corrected by the nurse at the next visit. On SQLite
and PostgreSQL; NCT03945799 (latest version), C1D1 2026-03-02 (cycle 1 doses 03-02 to 03-15),
dose time 07:00 Asia/Shanghai."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from scheduler.db import get_engine
from scheduler.errors import InputError
from scheduler.i18n import wording
from scheduler.kernel.subject_state import subject_state
from scheduler.models import AuditEntry, DoseRecord, LabResult, PatientReport
from scheduler.patients.links import issue_link, link_status, resolve_link, revoke_link
from scheduler.patients.reports import ReportRefused, report_blood_pressure, report_dose
from scheduler.patients.reviews import Correction, review_report
from scheduler.patients.view import panel, patient_page
from scheduler.pharmacy.views import subject_account
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold

DAY_3_NOON = datetime(2026, 3, 4, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, cycle 1 day 3
SETTINGS = Settings(database_url="sqlite://")


@pytest.fixture
def token(units):
    with units() as unit:
        enroll(
            unit,
            "S-1",
            c1d1="2026-03-02",
            surgery="2026-01-20",
            dose_time="07:00",
            site_code="ZJU1",
            language="zh_CN",
        )
        return issue_link(unit, SETTINGS, "S-1").token


def _as_patient(units, token, now=DAY_3_NOON):
    """A unit acting for the patient's link, with the subject's state and the link."""

    class Patient:
        def __enter__(self):
            self.context = units("patient", now=now)
            self.unit = self.context.__enter__()
            self.link = resolve_link(self.unit.session, token)
            self.unit.actor = f"patient link {self.link.id}"
            self.state = subject_state(self.unit.session, "S-1", self.unit.now)
            return self

        def __exit__(self, *exc):
            return self.context.__exit__(*exc)

    return Patient()


def _dose(units, token, on, taken=True, at=None, now=DAY_3_NOON):
    with _as_patient(units, token, now) as p:
        return report_dose(p.unit, p.state, p.link, on=on, taken=taken, at=at)


def test_a_dose_reported_taken_is_patient_reported_not_a_dose_record(units, token):
    reported = _dose(units, token, date(2026, 3, 4), at=time(7, 10))
    assert not reported.duplicate
    assert reported.worded(wording("zh_CN")) == "已保存：您3月4日 星期三在07:10服药。"
    with units() as unit:
        [row] = unit.session.exec(select(PatientReport)).all()
        assert (row.taken, row.taken_at, row.via) == (True, time(7, 10), "page")
        assert row.recorded_by.startswith("patient link ")
        assert unit.session.exec(select(DoseRecord)).all() == []
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "patient_report.dose")
        ).one()
    assert entry.actor == row.recorded_by  # the patient's link, not a staff account
    assert json.loads(entry.new_value)["reported_by"] == "patient"
    assert "reported by the patient" in entry.reason and "not verified by staff" in entry.reason


def test_the_same_dose_reported_twice_keeps_the_first_and_says_so(units, token):
    _dose(units, token, date(2026, 3, 4), at=time(7, 10))
    again = _dose(units, token, date(2026, 3, 4), taken=False)
    assert again.duplicate and again.report.taken_at == time(7, 10)
    assert "保留您的第一次报告" in again.worded(wording("zh_CN"))
    assert "Your first report is kept" in again.worded(wording("en"))
    with units() as unit:
        assert len(unit.session.exec(select(PatientReport)).all()) == 1


def _refusal(units, token, on, **kwargs):
    with pytest.raises(ReportRefused) as refused:
        _dose(units, token, on, **kwargs)
    return refused.value


def test_a_rest_day_a_future_day_and_a_later_time_are_refused_in_the_patient_s_words(units, token):
    day_16 = datetime(2026, 3, 17, 4, 0, tzinfo=UTC)
    rest = _refusal(units, token, date(2026, 3, 16), now=day_16)  # cycle 1 day 15: rest
    assert rest.worded(wording("zh_CN")) == "3月16日 星期一不用服药。未保存任何内容。"
    future = _refusal(units, token, date(2026, 3, 5))
    assert future.worded(wording("en")).endswith("has not come yet. Nothing was saved.")
    later = _refusal(units, token, date(2026, 3, 4), at=time(13, 0))  # it is 12:00
    assert later.field == "at"
    old = _refusal(units, token, date(2026, 3, 1))
    assert old.field == "date"
    with units() as unit:
        assert unit.session.exec(select(PatientReport)).all() == []


def test_a_held_day_is_refused_the_patient_is_told_not_to_take_it(units, token):
    with units(now=DAY_3_NOON) as unit:
        hold(unit, "S-1", start="2026-03-04", reason="grade 3 hypertension")
    held = _refusal(units, token, date(2026, 3, 4))
    assert held.worded(wording("zh_CN")).startswith("您的研究用药在3月4日 星期三暂停")


def test_a_reading_is_kept_on_a_cycle_1_dosing_day_and_refused_on_a_rest_day(units, token):
    with _as_patient(units, token) as p:
        kept = report_blood_pressure(
            p.unit, p.state, p.link, on=date(2026, 3, 4), systolic=150, diastolic=95
        )
    assert kept.report.kind == "bp" and not kept.duplicate
    rest_day = datetime(2026, 3, 17, 4, 0, tzinfo=UTC)
    with _as_patient(units, token, rest_day) as p, pytest.raises(ReportRefused) as refused:
        report_blood_pressure(
            p.unit, p.state, p.link, on=date(2026, 3, 17), systolic=150, diastolic=95
        )
    assert refused.value.message.startswith("No blood pressure reading is asked for")
    with _as_patient(units, token) as p, pytest.raises(ReportRefused) as slip:
        report_blood_pressure(
            p.unit, p.state, p.link, on=date(2026, 3, 4), systolic=95, diastolic=150
        )
    assert slip.value.field == "systolic"


def test_the_page_shows_today_s_dose_reading_appointment_and_phone(units, token):
    _dose(units, token, date(2026, 3, 4), at=time(7, 10))
    with _as_patient(units, token) as p:
        page = patient_page(p.unit.session, p.state, SETTINGS)
    [dose] = page.doses
    assert (dose.state, dose.taken_at) == ("taken", time(7, 10))
    assert page.reading_asked and page.reading is None
    assert page.appointment is not None and page.appointment.on == date(2026, 3, 16)  # C1D15
    assert page.appointment.name == "第1周期第15天安全检查"
    assert page.phone and page.language == "zh_CN"


def test_confirming_a_report_creates_the_verified_dose_record(units, token):
    reported = _dose(units, token, date(2026, 3, 4), at=time(7, 10))
    with units("nurse", now=DAY_3_NOON) as unit:
        review = review_report(unit, "S-1", reported.report.id)
    assert review.outcome == "confirmed"
    with units() as unit:
        record = unit.session.get(DoseRecord, review.dose_record_id)
        assert (record.dose_date, record.taken, record.taken_at) == (
            date(2026, 3, 4),
            True,
            time(7, 10),
        )
        assert record.recorded_by == "nurse"
        actions = [e.action for e in unit.session.exec(select(AuditEntry))]
    assert "patient_report.confirm" in actions and "dose.record" in actions
    with units("nurse", now=DAY_3_NOON) as unit, pytest.raises(InputError) as twice:
        review_report(unit, "S-1", reported.report.id)
    assert twice.value.http_status == 409


def test_correcting_a_report_needs_a_reason_and_records_what_the_nurse_established(units, token):
    reported = _dose(units, token, date(2026, 3, 4), taken=False)
    with units("nurse", now=DAY_3_NOON) as unit, pytest.raises(InputError) as no_reason:
        review_report(unit, "S-1", reported.report.id, correction=Correction(taken=True))
    assert no_reason.value.field == "reason"
    with units("nurse", now=DAY_3_NOON) as unit:
        review = review_report(
            unit,
            "S-1",
            reported.report.id,
            correction=Correction(taken=True, at="08:30"),
            reason="pill box shows it taken",
        )
    with units() as unit:
        record = unit.session.get(DoseRecord, review.dose_record_id)
        assert (record.taken, record.taken_at) == (True, time(8, 30))
        report = unit.session.get(PatientReport, reported.report.id)
        assert report.taken is False  # the patient's report stays as sent


def test_a_confirmed_reading_becomes_a_home_lab_result(units, token):
    with _as_patient(units, token) as p:
        kept = report_blood_pressure(
            p.unit, p.state, p.link, on=date(2026, 3, 4), systolic=150, diastolic=95
        )
    with units("nurse", now=DAY_3_NOON) as unit:
        review = review_report(unit, "S-1", kept.report.id)
    with units() as unit:
        rows = unit.session.exec(select(LabResult).where(LabResult.source == "home")).all()
    assert sorted((r.test, r.value) for r in rows) == [("DBP", 95.0), ("SBP", 150.0)]
    assert review.lab_result_id in {r.id for r in rows}


def test_accountability_shows_reported_and_verified_counts_side_by_side(units, token):
    first = _dose(units, token, date(2026, 3, 3), at=time(7, 0))
    _dose(units, token, date(2026, 3, 4), taken=False)
    with units("nurse", now=DAY_3_NOON) as unit:
        review_report(unit, "S-1", first.report.id)
    with units(now=DAY_3_NOON) as unit:
        counts = subject_account(unit.session, "S-1", unit.now).reports
        shown = panel(
            unit.session,
            subject_state(unit.session, "S-1", unit.now),
            link_status(unit.session, "S-1"),
        )
    assert (counts.reported_taken, counts.reported_not_taken, counts.unverified) == (1, 1, 1)
    assert (counts.verified_taken, counts.verified_missed) == (1, 0)
    assert [line.verified for line in shown.lines] == ["", "taken 07:00"]


def test_a_withdrawn_link_no_longer_resolves_and_says_gone(units, token):
    with units(now=DAY_3_NOON) as unit:
        assert revoke_link(unit, "S-1", reason="phone lost") == 1
    with units() as unit, pytest.raises(InputError) as gone:
        resolve_link(unit.session, token)
    assert gone.value.http_status == 410
    with units() as unit, pytest.raises(InputError) as unknown:
        resolve_link(unit.session, "not-a-token")
    assert unknown.value.http_status == 404


@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}"])
def test_the_database_refuses_to_change_a_report_or_its_review(db_url, units, token, statement):
    reported = _dose(units, token, date(2026, 3, 4), at=time(7, 10))
    with units("nurse", now=DAY_3_NOON) as unit:
        review_report(unit, "S-1", reported.report.id)
    engine = get_engine(db_url)
    for table in ("patientreport", "patientreview"):
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text(statement.format(table=table)))
    with units() as unit:
        assert len(unit.session.exec(select(PatientReport)).all()) == 1
