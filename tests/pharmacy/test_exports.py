"""SDTM-shaped exports on SQLite and PostgreSQL: S-001 took cycle 1 days 1-7, was held from
day 8 (2026-02-09), resumed at 10 mg on 2026-02-12 and took days 11-14; capsules were dispensed
on day 1 and counted back at cycle 2 day 1."""

import csv
import io

import pytest

from scheduler.errors import InputError
from scheduler.pharmacy.accountability import dispense, record_return
from scheduler.pharmacy.sdtm import export_csv
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold, resume
from scheduler.subjects.visits import record_visit


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-02", surgery="2026-01-05", site_code="ZJU1")
    with units() as unit:
        for day in range(2, 9):
            record_dose(unit, "S-001", on=f"2026-02-0{day}", taken=True)
        hold(unit, "S-001", start="2026-02-09", reason="grade 3 hand-foot skin reaction")
    with units() as unit:
        resume(unit, "S-001", on="2026-02-12", dose_mg=10, reason="resolved to grade 1")
    with units() as unit:
        for day in range(12, 16):
            record_dose(unit, "S-001", on=f"2026-02-{day}", taken=True)
        dispense(
            unit,
            "S-001",
            cycle=1,
            on="2026-02-02",
            strength=12,
            count=14,
            lot="L1",
            expiry="2027-01-01",
            reason="prepared on paper",
        )
        record_return(unit, "S-001", cycle=1, on="2026-02-23", strength=12, count=7)
        record_visit(unit, "S-001", "C1D1", on="2026-02-02")
    return "S-001"


def _rows(units, domain):
    with units() as unit:
        return list(csv.DictReader(io.StringIO(export_csv(unit.session, unit.now, domain))))


def test_ex_has_one_row_per_constant_dose_interval(units, subject):
    rows = _rows(units, "ex")
    assert [(r["EXSEQ"], r["EXDOSE"], r["EXSTDTC"], r["EXENDTC"], r["EXADJ"]) for r in rows] == [
        ("1", "12", "2026-02-02", "2026-02-08", ""),
        ("2", "10", "2026-02-12", "2026-02-15", "DOSE REDUCED"),
    ]
    first = rows[0]
    assert (first["STUDYID"], first["DOMAIN"], first["USUBJID"]) == (
        "NCT03945799",
        "EX",
        "NCT03945799-ZJU1-S-001",
    )
    assert (first["EXTRT"], first["EXDOSU"], first["EXDOSFRM"], first["EXDOSFRQ"]) == (
        "ANLOTINIB",
        "mg",
        "CAPSULE",
        "QD",
    )
    assert first["EXROUTE"] == "ORAL"


def test_da_has_dispensed_and_returned_amounts(units, subject):
    rows = _rows(units, "da")
    assert [(r["DATESTCD"], r["DASTRESN"], r["DADTC"], r["VISITNUM"]) for r in rows] == [
        ("DISPAMT", "14", "2026-02-02", "1"),
        ("RETAMT", "7", "2026-02-23", "1"),
    ]


def test_sv_lists_visits_that_took_place_with_the_planned_study_day(units, subject):
    rows = _rows(units, "sv")
    assert [(r["VISIT"], r["VISITDY"], r["SVSTDTC"]) for r in rows] == [
        ("CYCLE 1 DAY 1 (FIRST DOSE, DISPENSE)", "1", "2026-02-02")
    ]


def test_an_unknown_domain_is_refused(units, subject):
    with pytest.raises(InputError, match="not one of ex, da, sv"), units() as unit:
        export_csv(unit.session, unit.now, "ae")
