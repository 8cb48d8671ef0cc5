"""Recording lab results and vital signs: checked, converted to the grading unit, graded
against the baseline, stored, and, at or above the protocol's threshold, reported as an adverse
event through the same service a typed adverse event goes through (so the proposal, the audit
entry and the worklist are the same)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from scheduler.core.lab_grades import Measured, grade
from scheduler.core.lab_rules import home_bp_days, hys_law_pattern, reports_adverse_event
from scheduler.errors import InputError
from scheduler.kernel.subject_state import SubjectState, subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text, not_in_future, parse_date
from scheduler.labs.history import SubjectLabs, current_rows, measured, subject_labs
from scheduler.labs.units import check_unit, to_grading_unit
from scheduler.models import LabResult
from scheduler.protocols.grading_table import LabTest, ctcae_v5
from scheduler.subjects.adverse_events import RecordedEvent, record_adverse_event

BLOOD_PRESSURE = "BP"
"""Not a test of the table: a reading "150/95" records SBP and DBP together."""
_DIPSTICK_WORDS = {"neg": 0.0, "negative": 0.0, "trace": 0.5, "+-": 0.5}
_PLUS = re.compile(r"^([0-4])\+$")
SOURCES = ("clinic", "home")


@dataclass(frozen=True)
class RecordedResults:
    rows: list[LabResult]
    grades: dict[str, int | None]
    """By test code."""
    events: list[RecordedEvent]
    """Adverse events the results recorded (each with its proposal)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "results": [
                {
                    "id": row.id,
                    "test": row.test,
                    "date": row.taken_on.isoformat(),
                    "value": row.value,
                    "unit": row.unit,
                    "grade": self.grades[row.test],
                    "corrects": row.corrects_id,
                }
                for row in self.rows
            ],
            "adverse_events": [event.as_json() for event in self.events],
        }


def lab_test(code: str) -> LabTest:
    table = ctcae_v5()
    test = table.test(code)
    if test is None:
        known = ", ".join([*sorted(table.tests), BLOOD_PRESSURE])
        raise InputError("test", f"unknown test {code!r} (one of: {known})")
    return test


def _number(field: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(field, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(field, f"{text!r} is not a number")
    if value < 0:
        raise InputError(field, f"{text} is negative; a result cannot be")
    return value


def _reported_value(test: LabTest, text: str) -> float:
    """A dipstick reads negative, trace, 1+ .. 4+ (or 0 .. 4); everything else is a number."""
    text = text.strip()
    if test.unit == "+":
        word = text.casefold()
        if word in _DIPSTICK_WORDS:
            return _DIPSTICK_WORDS[word]
        plus = _PLUS.match(text)
        if plus:
            return float(plus.group(1))
        value = _number("value", text)
        if value > 4:
            raise InputError(
                "value", f"{text!r} is not a dipstick reading (negative, trace, 1+..4+)"
            )
        return value
    return _number("value", text)


def _limit(field: str, value: float | str | None) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _number(field, str(value))


@dataclass(frozen=True)
class _Entry:
    test: LabTest
    reported: str
    value: float
    unit: str
    lln: float | None
    uln: float | None


def _entries(
    test_code: str, value: str, unit_text: str | None, lln: float | None, uln: float | None
) -> list[_Entry]:
    if test_code.strip().upper() == BLOOD_PRESSURE:
        parts = value.split("/")
        if len(parts) != 2:
            raise InputError("value", f"{value!r} is not a blood pressure (systolic/diastolic)")
        systolic, diastolic = lab_test("SBP"), lab_test("DBP")
        unit = check_unit(systolic, unit_text or "mmHg")
        return [
            _Entry(systolic, parts[0].strip(), _number("value", parts[0]), unit, None, None),
            _Entry(diastolic, parts[1].strip(), _number("value", parts[1]), unit, None, None),
        ]
    test = lab_test(test_code)
    if unit_text is None or not unit_text.strip():
        if test.unit != "+":
            raise InputError(
                "unit", f"give the unit of {test.code} (one of: {', '.join(test.units)})"
            )
        unit_text = "+"
    unit = check_unit(test, unit_text)
    text = check_text("value", value, required=True, limit=32)
    return [_Entry(test, text, _reported_value(test, text), unit, lln, uln)]


def _check_range(lln: float | None, uln: float | None) -> None:
    if lln is not None and uln is not None and lln > uln:
        raise InputError("lln", f"the low limit {lln:g} is above the high limit {uln:g}")


def _first_study_day(state: SubjectState) -> date:
    return min(visit.window_start for visit in state.plan().visits)


def _check_home_reading(state: SubjectState, test: str, day: date) -> None:
    """``[labs.home_bp]``: home readings are blood pressures taken on a dosing day of a cycle
    the protocol names."""
    rules = state.protocol.labs
    if rules is None or rules.home_bp is None:
        raise InputError("source", f"{state.protocol.id} has no home blood pressure readings")
    if test.strip().upper() != BLOOD_PRESSURE:
        raise InputError("test", "a home reading is a blood pressure (--test BP)")
    if day not in home_bp_days(rules.home_bp, state.plan()):
        listed = ", ".join(str(n) for n in rules.home_bp.cycles)
        raise InputError("date", f"{day} is not a dosing day of cycles {listed}: no home reading")


def _previous_grade(labs: SubjectLabs, term: str, before: date) -> int | None:
    """The worst grade of ``term`` on the last day with a clinic result of it before ``before``."""
    earlier = [
        r
        for r in labs.results
        if r.test.term == term and r.row.taken_on < before and r.row.source == "clinic"
    ]
    if not earlier:
        return None
    last_day = earlier[-1].row.taken_on
    return max((r.grade or 0) for r in earlier if r.row.taken_on == last_day)


def record_result(
    unit: Unit,
    code: str,
    *,
    test: str,
    value: str | float,
    unit_text: str | None,
    on: str | date,
    lln: float | str | None = None,
    uln: float | str | None = None,
    reason: str = "",
    source: str = "clinic",
) -> RecordedResults:
    """Record one result (or a blood pressure reading, ``test="BP"``, ``value="150/95"``).

    Refused, with nothing stored, for an unknown test, a unit the test does not list, a negative
    value, a normal range with low above high, a date in the future or before screening, and a
    result whose grade needs a limit of normal it was not given. A second result of a test on
    one day (from the same source) corrects the first and needs a reason."""
    if source not in SOURCES:
        raise InputError("source", f"{source!r} is not one of {', '.join(SOURCES)}")
    state = subject_state(unit.session, code, unit.now)
    low, high = _limit("lln", lln), _limit("uln", uln)
    _check_range(low, high)
    entries = _entries(test, str(value), unit_text, low, high)
    day = not_in_future("date", parse_date("date", on), state.today)
    first = _first_study_day(state)
    if day < first:
        raise InputError("date", f"{day} is before screening opens on {first}")
    if source == "home":
        _check_home_reading(state, test, day)
    reason = check_text("reason", reason, required=False)
    subject_id = state.subject.id or 0
    existing = {
        (row.test, row.taken_on, row.source): row for row in current_rows(unit.session, subject_id)
    }
    labs = subject_labs(unit.session, state)
    rows: list[LabResult] = []
    grades: dict[str, int | None] = {}
    for entry in entries:
        measured_value = Measured(
            value=to_grading_unit(entry.test, entry.value, entry.unit),
            lln=None if entry.lln is None else to_grading_unit(entry.test, entry.lln, entry.unit),
            uln=None if entry.uln is None else to_grading_unit(entry.test, entry.uln, entry.unit),
        )
        base = labs.baselines.get(entry.test.code)
        reference = measured(base) if base is not None and day >= labs.c1d1 else None
        grades[entry.test.code] = grade(entry.test, measured_value, reference)
        earlier = existing.get((entry.test.code, day, source))
        if earlier is not None and not reason:
            raise InputError(
                "reason",
                f"{entry.test.code} on {day} is already recorded ({earlier.reported} "
                f"{earlier.unit}); a correction needs a reason",
            )
        rows.append(
            LabResult(
                subject_id=subject_id,
                test=entry.test.code,
                taken_on=day,
                reported=entry.reported,
                value=entry.value,
                unit=entry.unit,
                lln=entry.lln,
                uln=entry.uln,
                value_std=measured_value.value,
                lln_std=measured_value.lln,
                uln_std=measured_value.uln,
                source=source,
                corrects_id=earlier.id if earlier is not None else None,
                reason=reason,
                recorded_at=unit.now,
                recorded_by=unit.actor,
            )
        )
    events = _adverse_events(unit, state, labs, rows, grades)
    for row in rows:
        unit.session.add(row)
    unit.session.flush()
    for row in rows:
        unit.audit(
            "lab.correct" if row.corrects_id else "lab.record",
            entity="labresult",
            entity_id=row.id,
            subject_id=subject_id,
            new={
                "test": row.test,
                "date": row.taken_on,
                "value": row.reported,
                "unit": row.unit,
                "lln": row.lln,
                "uln": row.uln,
                "source": row.source,
                "grade": grades[row.test],
                "adverse_event": row.adverse_event_id,
            },
            reason=reason,
        )
    return RecordedResults(rows=rows, grades=grades, events=events)


def _adverse_events(
    unit: Unit,
    state: SubjectState,
    labs: SubjectLabs,
    rows: list[LabResult],
    grades: dict[str, int | None],
) -> list[RecordedEvent]:
    """The adverse events the new results report: per CTCAE term, the worst new grade when
    the protocol's rule says so, and the Hy's law pattern. Results before cycle 1 day 1 are
    the subject's history, and home readings are checked by the team first: neither reports."""
    rules = state.protocol.labs
    if rules is None or not rows or rows[0].taken_on < labs.c1d1 or rows[0].source != "clinic":
        return []
    day = rows[0].taken_on
    events: list[RecordedEvent] = []
    by_term: dict[str, list[LabResult]] = {}
    for row in rows:
        term = ctcae_v5().tests[row.test].term
        if term:
            by_term.setdefault(term, []).append(row)
    for term, term_rows in by_term.items():
        worst = max(term_rows, key=lambda r: grades[r.test] or 0)
        worst_grade = grades[worst.test]
        previous = _previous_grade(labs, term, day)
        if not reports_adverse_event(rules, worst.test, worst_grade, previous):
            continue
        event = record_adverse_event(
            unit, state.subject.code, term=term, grade=worst_grade or 0, onset=day
        )
        events.append(event)
        for row in term_rows:
            row.adverse_event_id = event.record.id
    hys = _hys_law_event(unit, state, labs, rows, grades)
    if hys is not None:
        events.append(hys)
    return events


_LIVER = ("ALT", "AST", "TBIL")


def _hys_law_event(
    unit: Unit,
    state: SubjectState,
    labs: SubjectLabs,
    rows: list[LabResult],
    grades: dict[str, int | None],
) -> RecordedEvent | None:
    rules = state.protocol.labs
    if rules is None or rules.hys_law is None or not any(r.test in _LIVER for r in rows):
        return None
    day = rows[0].taken_on
    same_day = {r.row.test: r.row for r in labs.results if r.row.taken_on == day}
    same_day.update({row.test: row for row in rows})
    enzymes = [measured(same_day[t]) for t in ("ALT", "AST") if t in same_day]
    bilirubin = measured(same_day["TBIL"]) if "TBIL" in same_day else None
    if not hys_law_pattern(rules.hys_law, enzymes, bilirubin):
        return None
    term = rules.hys_law.term
    if any(e.term == term and e.onset == day for e in state.history.adverse_events):
        return None
    worst = max(
        (grades.get(t) or 0 for t in _LIVER if t in grades),
        default=0,
    )
    return record_adverse_event(unit, state.subject.code, term=term, grade=max(worst, 1), onset=day)
