"""Dates that cannot be right are refused at enrolment.

NCT03945799 (version 3) gives the first dose 28 to 56 days after the liver resection. Outside
that interval enrolment is the investigator's decision: it needs a reason and is kept as a
protocol deviation. Dates that put a follow-up scan (counted from the surgery) before the
screening visit are refused whatever the reason. A regimen without visits counted from a
surgery (the capecitabine example) enrols without a surgery date. A subject stopped before the
first dose has no end-of-treatment visit and gets a clear status. Through the services and the
CLI, on SQLite and PostgreSQL; the clock reads 2026-03-02 noon in Shanghai."""

from __future__ import annotations

import json

import pytest
from cli_runner import run
from sqlmodel import func, select

from scheduler.errors import InputError
from scheduler.kernel.subject_state import plan_for
from scheduler.models import AuditEntry, Dispensing, Subject
from scheduler.pharmacy.accountability import dispense
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import discontinue


def _count(units, table) -> int:
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(table)).one()


def _audit(units, action):
    with units() as unit:
        rows = unit.session.exec(select(AuditEntry).where(AuditEntry.action == action)).all()
        return [(json.loads(r.new_value or "null"), r.reason) for r in rows]


def test_surgery_seven_months_before_c1d1_is_refused_because_follow_ups_fall_before_screening(
    units,
):
    # Surgery 2026-11-01 + 3 months = 2027-02-01, long before baseline imaging opens the study
    # on 2027-05-04 (C1D1 - 28).
    for reason in ("", "PI: late referral"):
        with pytest.raises(InputError) as refused, units() as unit:
            enroll(
                unit, "S-001", c1d1="2027-06-01", surgery="2026-11-01", site_code="ZJU1",
                reason=reason,
            )  # fmt: skip

        assert refused.value.field == "surgery"
        assert refused.value.reason == (
            "2026-11-01 puts Follow-up month 3 (FU3M, 2027-02-01) before Baseline imaging "
            "(CT/MRI) and AFP (2027-05-04): check both dates"
        )
    assert _count(units, Subject) == 0


def test_c1d1_outside_28_to_56_days_after_surgery_needs_the_investigator_s_reason(units):
    with pytest.raises(InputError) as refused, units() as unit:
        enroll(unit, "S-001", c1d1="2026-03-16", surgery="2026-01-05", site_code="ZJU1")

    assert refused.value.field == "reason"
    assert refused.value.reason == (
        "C1D1 2026-03-16 is 70 days after the surgery on 2026-01-05; NCT03945799 allows "
        "28-56 days: give --reason (the investigator's decision to enrol)"
    )
    assert _count(units, Subject) == 0


def test_with_a_reason_the_enrolment_is_kept_and_audited_as_a_deviation(units):
    with units(actor="investigator") as unit:
        enroll(
            unit, "S-001", c1d1="2026-03-16", surgery="2026-01-05", site_code="ZJU1",
            reason="wound healing delayed; PI approves",
        )  # fmt: skip

    assert _count(units, Subject) == 1
    assert _audit(units, "subject.enrolment_deviation") == [
        (
            {
                "deviation": "C1D1 2026-03-16 is 70 days after the surgery on 2026-01-05; "
                "NCT03945799 allows 28-56 days"
            },
            "wound healing delayed; PI approves",
        )
    ]


def test_c1d1_28_and_56_days_after_surgery_is_within_the_protocol(units):
    with units() as unit:
        enroll(unit, "S-028", c1d1="2026-02-02", surgery="2026-01-05", site_code="ZJU1")
        enroll(unit, "S-056", c1d1="2026-03-02", surgery="2026-01-05", site_code="ZJU1")

    assert _count(units, Subject) == 2
    assert _audit(units, "subject.enrolment_deviation") == []


def test_the_anlotinib_protocol_needs_the_surgery_date(units):
    with pytest.raises(InputError) as refused, units() as unit:
        enroll(unit, "S-001", c1d1="2026-03-02", site_code="ZJU1")

    assert refused.value.field == "surgery"
    assert _count(units, Subject) == 0


def test_the_capecitabine_example_enrols_without_a_surgery_date(units, capsys, db_url):
    code, _, err = run(
        capsys, "enroll", "CAPE-1", "--c1d1", "2026-03-09", "--protocol", "EXAMPLE-CAPE-BID",
        "--site", "ZJU1", "--db", db_url,
    )  # fmt: skip

    assert (code, err) == (0, "")
    with units() as unit:
        plan = plan_for(unit.session, "CAPE-1", unit.now)
    assert plan.anchors.surgery is None
    assert plan.visit("FU6M") is not None and plan.visit("FU6M").anchor == "last_dose"


def test_the_cli_refuses_anlotinib_without_surgery_naming_the_field(units, capsys, db_url):
    code, _, err = run(
        capsys, "enroll", "S-001", "--c1d1", "2026-03-09", "--site", "ZJU1", "--db", db_url
    )

    assert code == 2 and err.startswith("error: surgery: ")
    assert _count(units, Subject) == 0


def test_discontinued_in_screening_is_a_screen_failure_with_no_end_of_treatment(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-03-09", surgery="2026-02-01", site_code="ZJU1")
    with units(actor="investigator") as unit:
        plan = discontinue(unit, "S-001", on="2026-03-02", reason="withdrawal")

    assert plan.status == "screen_failure"
    assert plan.visit("EOT").status == "cancelled"
    assert {v.status for v in plan.visits if v.target > plan.today} == {"cancelled"}
    with pytest.raises(InputError), units(actor="pharmacist") as unit:
        dispense(
            unit, "S-001", cycle=1, on="2026-03-02", strength=12, count=14, lot="AN1",
            expiry="2027-06-30", reason="prepared by hand",
        )  # fmt: skip
    assert _count(units, Dispensing) == 0


def test_discontinued_after_c1d1_without_a_dose_taken_is_withdrawn_before_treatment(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-26", surgery="2026-01-20", site_code="ZJU1")
    with units() as unit:
        for day in ("2026-02-26", "2026-02-27", "2026-02-28"):
            record_dose(unit, "S-001", on=day, taken=False)
    with units(actor="investigator") as unit:
        plan = discontinue(unit, "S-001", on="2026-03-01", reason="withdrawal")

    assert plan.status == "withdrawn_before_treatment"
    assert plan.visit("EOT").status == "cancelled"
    assert plan.visit("FU3M").status != "cancelled"  # follow-up for recurrence continues
