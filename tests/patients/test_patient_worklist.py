"""What a patient reports puts them on the nurse's worklist the same day: a home blood pressure
at or above 160/100 (NCT03945799 ``[labs.home_bp]``), a dose reported not taken, and, for a
subject who opted in, a dosing day that ends with no report (the dose can no longer be taken:
07:00 + 12 h, 19:00 in Shanghai). On SQLite and PostgreSQL; C1D1 2026-03-02."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduler.kernel.subject_state import subject_state
from scheduler.patients.links import issue_link, resolve_link, set_unreported_alert
from scheduler.patients.reports import report_blood_pressure, report_dose
from scheduler.patients.reviews import Correction, review_report
from scheduler.settings import Settings
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold
from scheduler.worklist.items import worklist

SETTINGS = Settings(database_url="sqlite://")


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


NOON_DAY_3 = _shanghai(4, 12)


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
        )
        return issue_link(unit, SETTINGS, "S-1").token


def _report(units, token, now, send):
    with units("patient", now=now) as unit:
        link = resolve_link(unit.session, token)
        unit.actor = f"patient link {link.id}"
        state = subject_state(unit.session, "S-1", unit.now)
        return send(unit, state, link)


def _items(units, now, kind):
    with units(now=now) as unit:
        return [i for i in worklist(unit.session, unit.now) if i.kind == kind]


def test_a_reported_160_100_lists_the_subject_the_same_day_until_the_nurse_reviews_it(units, token):
    sent = _report(
        units,
        token,
        NOON_DAY_3,
        lambda u, s, link: report_blood_pressure(
            u, s, link, on=date(2026, 3, 4), systolic=150, diastolic=100
        ),
    )
    [item] = _items(units, NOON_DAY_3, "patient_bp")
    assert item.subject == "S-1" and item.urgency == "overdue"
    assert "150/100 mmHg reported by the patient on 2026-03-04" in item.detail
    with units("nurse", now=NOON_DAY_3) as unit:
        review_report(unit, "S-1", sent.report.id)
    assert _items(units, NOON_DAY_3, "patient_bp") == []
    # confirmed, it is the team's home reading at the alert level: the labs item takes over
    assert len(_items(units, NOON_DAY_3, "home_bp")) == 1


def test_a_reading_below_the_alert_level_lists_nobody(units, token):
    _report(
        units,
        token,
        NOON_DAY_3,
        lambda u, s, link: report_blood_pressure(
            u, s, link, on=date(2026, 3, 4), systolic=159, diastolic=99
        ),
    )
    assert _items(units, NOON_DAY_3, "patient_bp") == []


def test_a_dose_reported_not_taken_lists_the_subject_the_same_day(units, token):
    sent = _report(
        units,
        token,
        NOON_DAY_3,
        lambda u, s, link: report_dose(u, s, link, on=date(2026, 3, 4), taken=False, at=None),
    )
    [item] = _items(units, NOON_DAY_3, "patient_not_taken")
    assert item.urgency == "today" and "2026-03-04" in item.detail
    with units("nurse", now=NOON_DAY_3) as unit:
        review_report(
            unit,
            "S-1",
            sent.report.id,
            correction=Correction(taken=False),
            reason="confirmed by phone: vomited, no dose",
        )
    assert _items(units, NOON_DAY_3, "patient_not_taken") == []


def test_an_unreported_dosing_day_lists_an_opted_in_subject_from_its_end_that_day(units, token):
    """The link was issued on C1D1 (2026-03-02) at noon: every dosing day from then on counts,
    each listed from its 19:00 for three days."""
    evening = _shanghai(4, 19, 5)
    assert _items(units, evening, "patient_unreported") == []  # not opted in
    with units(now=NOON_DAY_3) as unit:
        set_unreported_alert(unit, "S-1", on=True)

    def listed(now):
        return [i.target for i in _items(units, now, "patient_unreported")]

    first_day = [date(2026, 3, 2)]
    assert listed(_shanghai(2, 18, 55)) == []  # still time to take it
    assert listed(_shanghai(2, 19, 5)) == first_day  # the same day
    assert listed(_shanghai(4, 18, 55)) == [date(2026, 3, 2), date(2026, 3, 3)]
    assert listed(evening) == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    assert (
        "no report of the dose of 2026-03-04"
        in _items(units, evening, "patient_unreported")[-1].detail
    )
    _report(
        units,
        token,
        evening,
        lambda u, s, link: report_dose(u, s, link, on=date(2026, 3, 4), taken=True, at=time(7, 5)),
    )
    assert listed(evening) == [date(2026, 3, 2), date(2026, 3, 3)]
    assert listed(_shanghai(5, 12)) == [date(2026, 3, 3)]  # three days each


def test_a_dose_recorded_by_the_nurse_or_a_held_day_is_not_unreported(units, token):
    with units(now=NOON_DAY_3) as unit:
        set_unreported_alert(unit, "S-1", on=True)
        for day in ("2026-03-02", "2026-03-03", "2026-03-04"):
            record_dose(unit, "S-1", on=day, taken=True, at="07:00")
    assert _items(units, _shanghai(4, 20), "patient_unreported") == []
    with units(now=_shanghai(5, 9)) as unit:
        hold(unit, "S-1", start="2026-03-05", reason="grade 3 hypertension")
    assert _items(units, _shanghai(5, 20), "patient_unreported") == []
