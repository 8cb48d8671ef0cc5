"""The screening checklist of protocol version 4: lab criteria filled from the recorded
results, the others answered with their source document; C1D1 is confirmed only once every
criterion is met or an investigator waives it; screen failures and the screening log. On
SQLite and PostgreSQL; C1D1 is 2026-03-02, the clock reads 2026-03-02 12:00 in Shanghai."""

from __future__ import annotations

import pytest
from cli_runner import run
from sqlmodel import select

from scheduler.eligibility.checklist import (
    answer_criterion,
    checklist,
    waive_criterion,
)
from scheduler.eligibility.screening import consort_counts, record_screen_failure, screening_log
from scheduler.errors import Conflict, InputError
from scheduler.kernel.subject_state import plan_for, subject_state
from scheduler.labs.results import record_result
from scheduler.models import AuditEntry, Day1Check, EligibilityAnswer
from scheduler.pharmacy.accountability import confirm_day1
from scheduler.subjects.enrolment import enroll

SCREENING_LABS = {
    "CRCL": ("85", "mL/min", {}),
    "TBIL": ("18", "umol/L", {"uln": 20.5}),
    "ALB": ("38", "g/L", {"lln": 35}),
    "AST": ("60", "U/L", {"uln": 35}),
    "ALT": ("70", "U/L", {"uln": 40}),
    "ALP": ("130", "U/L", {"uln": 120}),
    "ANC": ("2.5", "10^9/L", {"lln": 1.8}),
    "HGB": ("11.5", "g/dL", {"lln": 12}),
    "PLT": ("160", "10^9/L", {"lln": 125}),
    "INR": ("1.1", "ratio", {}),
}
ANSWERS = {"AGE": "54", "CHILD_PUGH": "6", "ECOG": "1"} | {
    code: "yes" for code in ("NO_TRANSFUSION", "HCC", "HIGH_RISK", "CONSENT", "QTC")
} | {
    code: "no"
    for code in (
        "PREGNANCY", "MALIGNANCY", "RECURRENT", "OTHER_TRIAL", "MENTAL", "POSTOP_THERAPY",
        "PROTEINURIA",
    )
}  # fmt: skip


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-1", c1d1="2026-03-02", surgery="2026-01-20", site_code="ZJU1")
    return "S-1"


def _screen(units, code="S-1", labs=None, answers=None):
    with units() as unit:
        for test, (value, unit_text, limits) in (SCREENING_LABS | (labs or {})).items():
            record_result(
                unit, code, test=test, value=value, unit_text=unit_text, on="2026-02-20", **limits
            )
        for criterion, answer in (ANSWERS | (answers or {})).items():
            answer_criterion(unit, code, criterion=criterion, answer=answer, source="CRF p.3")


def _lines(units, code="S-1"):
    with units() as unit:
        return {
            line.criterion.code: line
            for line in checklist(unit.session, subject_state(unit.session, code, unit.now))
        }


def test_c1d1_is_refused_until_every_criterion_is_met(units, subject):
    with pytest.raises(Conflict) as refused, units() as unit:
        confirm_day1(unit, subject, cycle=1, met=True)
    assert refused.value.field == "eligibility"
    assert "AGE" in refused.value.reason and "CONSENT" in refused.value.reason
    _screen(units)
    assert all(line.met for line in _lines(units).values())
    with units() as unit:
        check = confirm_day1(unit, subject, cycle=1, met=True)
    assert check.met is True


def test_lab_criteria_are_filled_from_the_recorded_results(units, subject):
    _screen(units, labs={"ALB": ("25", "g/L", {"lln": 35}), "ALT": ("240", "U/L", {"uln": 40})})
    lines = _lines(units)
    assert lines["ALB"].met is False
    assert lines["ALB"].answer == "ALB 25 g/L (2026-02-20)"
    assert lines["ALB"].source == "recorded results"
    assert lines["LIVER"].met is False  # ALT 6 x ULN
    assert lines["TBIL"].met is True


def test_an_exclusion_answered_yes_fails(units, subject):
    _screen(units, answers={"PREGNANCY": "yes"})
    assert _lines(units)["PREGNANCY"].met is False


def test_an_investigator_waiver_with_a_reason_lets_c1d1_be_confirmed(units, subject):
    _screen(units, answers={"AGE": "76"})
    with pytest.raises(Conflict), units() as unit:
        confirm_day1(unit, subject, cycle=1, met=True)
    with pytest.raises(InputError) as refused, units("dr-li") as unit:
        waive_criterion(unit, subject, criterion="AGE", reason="")
    assert refused.value.field == "reason"
    with units("dr-li") as unit:
        waive_criterion(unit, subject, criterion="AGE", reason="fit 76-year-old, sponsor agreed")
    with units() as unit:
        assert confirm_day1(unit, subject, cycle=1, met=True).met is True
        audit = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "eligibility.waive")
        ).one()
    assert (audit.actor, audit.reason) == ("dr-li", "fit 76-year-old, sponsor agreed")


def test_a_met_criterion_cannot_be_waived(units, subject):
    _screen(units)
    with pytest.raises(Conflict), units("dr-li") as unit:
        waive_criterion(unit, subject, criterion="AGE", reason="not needed")


@pytest.mark.parametrize(
    ("criterion", "answer", "source", "field"),
    [
        ("NOPE", "yes", "CRF", "criterion"),
        ("CONSENT", "maybe", "CRF", "answer"),
        ("AGE", "fifty", "CRF", "answer"),
        ("ALB", "40", "CRF", "criterion"),
        ("CONSENT", "yes", " ", "source"),
    ],
)
def test_a_bad_answer_is_refused_naming_the_field_and_nothing_is_stored(
    units, subject, criterion, answer, source, field
):
    with pytest.raises(InputError) as refused, units() as unit:
        answer_criterion(unit, subject, criterion=criterion, answer=answer, source=source)
    assert refused.value.field == field
    with units() as unit:
        assert unit.session.exec(select(EligibilityAnswer)).all() == []


def test_a_screen_failure_records_the_failing_criteria_and_the_log_counts_it(units, subject):
    with units() as unit:
        enroll(unit, "S-2", c1d1="2026-03-09", surgery="2026-01-27", site_code="ZJU1")
        enroll(unit, "S-3", c1d1="2026-03-09", surgery="2026-01-27", site_code="ZJU1")
    _screen(units, "S-2", labs={"PLT": ("60", "10^9/L", {"lln": 125})})
    with units() as unit:
        failure = record_screen_failure(unit, "S-2", on="2026-03-02", reason="platelets 60")
    assert failure.criteria == "PLT"
    with units() as unit:
        assert plan_for(unit.session, "S-2", unit.now).status == "screen_failure"
        lines = screening_log(unit.session, unit.now)
    assert [(x.subject, x.outcome) for x in lines] == [
        ("S-1", "screening"),
        ("S-2", "failed"),
        ("S-3", "screening"),
    ]
    counts = consort_counts(lines)
    assert (counts["screened"], counts["failed"], counts["enrolled"]) == (3, 1, 0)
    assert counts["failed_by_criterion"] == {"PLT": 1}


def test_a_screen_failure_with_every_criterion_met_is_refused(units, subject):
    _screen(units)
    with pytest.raises(Conflict), units() as unit:
        record_screen_failure(unit, subject, on="2026-03-02", reason="changed mind")
    with units() as unit:
        assert unit.session.exec(select(Day1Check)).all() == []


def test_the_cli_answers_waives_and_prints_the_screening_log(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'screening.db'}"
    db = ("--db", url)
    assert run(capsys, "init", *db)[0] == 0
    assert (
        run(capsys, "enroll", "S-9", "--c1d1", "2026-01-05", "--surgery", "2025-12-01", *db)[0] == 0
    )
    answer = ("eligibility", "S-9", "--criterion", "AGE", "--answer", "80", "--source", "ID")
    code, out, err = run(capsys, *answer, *db)
    assert code == 0, err
    assert "AGE             inclusion  NOT MET  80      ID" in out
    code, out, err = run(
        capsys,
        "eligibility",
        "S-9",
        "--criterion",
        "CONSENT",
        "--answer",
        "perhaps",
        "--source",
        "CRF",
        *db,
    )
    assert (code, out) == (2, "") and err.startswith("error: answer: ")
    code, out, err = run(capsys, "screen-fail", "S-9", "--on", "2025-12-20", "--reason", "age", *db)
    assert (code, err) == (0, "")
    assert out == "S-9 screen failure on 2025-12-20: AGE\n"
    code, out, _ = run(capsys, "screening-log", *db)
    assert out.splitlines()[-1] == (
        "screened 1, failed 1 (AGE 1), withdrawn 0, enrolled 0, still screening 0"
    )
