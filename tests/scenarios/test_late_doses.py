"""A late dose is taken, not missed: the record says what happened.

The protocol allows a dose up to 12 hours after its time (``late_dose_hours``). A capsule
swallowed later than that was still swallowed: it is ``taken_outside_window``, a protocol
deviation the nurse reports, and it counts as taken for drug accountability, dose intensity and
the EX export. Only a dose not taken is missed. Through the services, on SQLite and PostgreSQL:
S-001 started cycle 1 on Monday 2026-02-02 with 14 capsules, dosing at 08:00 in Shanghai, and
on C1D2 (2026-02-03) took the capsule at 21:30, 13 h 30 min late. The clock reads 2026-03-02
noon in Shanghai."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import func, select

from calendars import FeedOptions, patient_items
from scheduler.core.accountability import relative_dose_intensity
from scheduler.errors import InputError
from scheduler.kernel.subject_state import plan_for
from scheduler.models import AuditEntry, DoseRecord
from scheduler.pharmacy.accountability import (
    dispense,
    prepare,
    reconciliation_for,
    record_return,
)
from scheduler.pharmacy.sdtm import export_csv
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.worklist.items import worklist

C1D1 = date(2026, 2, 2)
C1D2 = date(2026, 2, 3)


@pytest.fixture
def subject(units):
    """S-001 took every dose of cycle 1 at 08:00, except C1D2's, taken at 21:30."""
    with units(now=datetime(2026, 1, 29, 4, 0, tzinfo=UTC)) as unit:
        enroll(unit, "S-001", c1d1=C1D1, surgery="2026-01-05", site_code="ZJU1", dose_time="08:00")
        prepare(unit, "S-001", cycle=1)
    with units() as unit:
        dispense(
            unit, "S-001", cycle=1, on=C1D1, strength=12, count=14, lot="AN2601",
            expiry="2027-06-30",
        )  # fmt: skip
    with units() as unit:
        for n in range(14):
            on = C1D1 + timedelta(days=n)
            record_dose(unit, "S-001", on=on, taken=True, at="21:30" if on == C1D2 else "08:00")
    return "S-001"


def _slot(units, code, on):
    with units() as unit:
        plan = plan_for(unit.session, code, unit.now)
    return plan, next(s for s in plan.doses() if s.date == on)


def test_a_dose_taken_13_and_a_half_hours_late_is_taken_outside_the_window(units, subject):
    _, dose = _slot(units, subject, C1D2)

    assert (dose.status, dose.taken_at, dose.late_minutes) == (
        "taken_outside_window",
        time(21, 30),
        810,
    )


def test_it_counts_as_taken_for_accountability_and_dose_intensity(units, subject):
    with units() as unit:
        record_return(unit, subject, cycle=1, on="2026-02-23", strength=12, count=0)
        (line,) = reconciliation_for(unit.session, subject, unit.now)
        plan = plan_for(unit.session, subject, unit.now)

    assert (line.taken_capsules, line.expected_return, line.discrepancy) == (14, 0, 0)
    summary = relative_dose_intensity(plan)
    assert (summary.taken, summary.missed) == (14, 0)
    assert summary.cycles[0].relative_dose_intensity == 1.0


def test_the_worklist_lists_it_as_a_deviation_for_a_week_and_never_as_a_missed_dose(units, subject):
    def items(on):
        with units() as unit:
            return [i for i in worklist(unit.session, unit.now, on=on) if i.subject == subject]

    (deviation,) = [i for i in items(date(2026, 2, 4)) if i.kind == "dose_deviation"]
    assert (deviation.what, deviation.urgency) == ("C1D2", "today")
    assert deviation.detail == (
        "dose of 2026-02-03 08:00 taken at 21:30, 13 h 30 min late, beyond the 12-hour limit: "
        "protocol deviation"
    )
    assert not [i for i in items(date(2026, 2, 4)) if i.kind == "missed_doses"]
    assert [i.kind for i in items(date(2026, 2, 9)) if i.kind == "dose_deviation"] == [
        "dose_deviation"
    ]
    assert not [i for i in items(date(2026, 2, 10)) if i.kind == "dose_deviation"]


def test_the_ex_export_keeps_the_day_and_flags_the_deviation(units, subject):
    with units() as unit:
        rows = list(csv.DictReader(io.StringIO(export_csv(unit.session, unit.now, "ex"))))

    assert [(r["EXSTDTC"], r["EXENDTC"], r["EXADJ"]) for r in rows] == [
        ("2026-02-02", "2026-02-02", ""),
        ("2026-02-03", "2026-02-03", "DOSE TAKEN OUTSIDE PROTOCOL TIME WINDOW"),
        ("2026-02-04", "2026-02-15", ""),
    ]


def test_the_patient_s_calendar_shows_the_dose_as_taken(units, subject):
    plan, dose = _slot(units, subject, C1D2)
    (item,) = [i for i in patient_items(plan, FeedOptions()) if i.key == f"dose:{dose.key}"]

    assert "missed" not in item.summary.lower()
    assert "taken" in item.summary.lower()


def _records(units) -> tuple[int, int]:
    with units() as unit:
        doses = unit.session.exec(select(func.count()).select_from(DoseRecord)).one()
        audit = unit.session.exec(select(func.count()).select_from(AuditEntry)).one()
    return doses, audit


def test_a_time_taken_later_than_now_in_the_subject_s_zone_is_refused_naming_at(units, subject):
    # Now is 12:00 in Shanghai (04:00 UTC): a dose of today "taken at 13:00" has not been taken.
    before = _records(units)
    with pytest.raises(InputError) as refused, units() as unit:
        record_dose(unit, subject, on="2026-03-02", taken=True, at="13:00", reason="")

    assert refused.value.field == "at"
    assert refused.value.reason == (
        "13:00 on 2026-03-02 is later than now (12:00 on 2026-03-02 in the subject's time zone)"
    )
    assert _records(units) == before


def test_a_time_earlier_today_is_accepted(units):
    now = datetime(2026, 2, 2, 4, 0, tzinfo=UTC)  # 12:00 on C1D1 in Shanghai
    with units(now=now) as unit:
        enroll(unit, "S-002", c1d1=C1D1, surgery="2026-01-05", site_code="ZJU1", dose_time="08:00")
        recorded = record_dose(unit, "S-002", on=C1D1, taken=True, at="11:59")

    assert recorded.slot.status == "late"


def test_the_dose_form_shows_a_future_time_at_the_top_of_the_page(staff_client, units):
    # The demo trial's clock is 12:00 in Shanghai too; DEMO-002 is on treatment today.
    nurse = staff_client("nurse")
    before = _records(units)
    response = nurse.form(
        "/subjects/DEMO-002/doses", {"date": "2026-03-02", "outcome": "taken", "at": "23:00"}
    )

    assert response.status_code == 422
    page = response.text
    summary = page.index('id="refused"')
    assert summary < page.index('class="timeline-box"')
    assert "at: 23:00 on 2026-03-02 is later than now" in page[summary : summary + 300]
    assert 'id="dose-at-error"' in page
    assert _records(units) == before
