"""Correcting a subject's baseline for one test: another of its results (or none) becomes the
baseline, with a reason, and every result of the test is regraded from it on the next read."""

from __future__ import annotations

from scheduler.errors import InputError, NotFound
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text
from scheduler.labs.history import current_rows, subject_labs
from scheduler.labs.results import lab_test
from scheduler.models import LabBaseline


def correct_baseline(
    unit: Unit, code: str, *, test: str, result_id: int | None, reason: str
) -> LabBaseline:
    """Make result ``result_id`` (a current result of ``test``) the baseline, or record that
    the test has none (``result_id`` None)."""
    state = subject_state(unit.session, code, unit.now)
    lab = lab_test(test)
    reason = check_text("reason", reason, required=True)
    subject_id = state.subject.id or 0
    if result_id is not None:
        rows = {row.id: row for row in current_rows(unit.session, subject_id)}
        row = rows.get(result_id)
        if row is None:
            raise NotFound("result", f"{code} has no current result {result_id}")
        if row.test != lab.code:
            raise InputError("result", f"result {result_id} is {row.test}, not {lab.code}")
    old = subject_labs(unit.session, state).baselines.get(lab.code)
    correction = LabBaseline(
        subject_id=subject_id,
        test=lab.code,
        result_id=result_id,
        reason=reason,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    unit.session.add(correction)
    unit.session.flush()
    unit.audit(
        "lab.baseline",
        entity="labbaseline",
        entity_id=correction.id,
        subject_id=subject_id,
        old={"test": lab.code, "result": old.id if old is not None else None},
        new={"test": lab.code, "result": result_id},
        reason=reason,
    )
    return correction
