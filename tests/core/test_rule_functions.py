"""The core's rule functions and its one constructor shortcut for cycles, on their own."""

from __future__ import annotations

import ast
import dataclasses
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.core.limits import (
    delay_limit_passed,
    hold_limit_passed,
    lateness,
    no_re_escalation,
)
from scheduler.core.outputs import CyclePlan, cycle_plan

CORE = Path(__file__).resolve().parents[2] / "scheduler" / "core"


@pytest.mark.parametrize(("days", "passed"), [(0, False), (14, False), (15, True), (40, True)])
def test_the_hold_limit_is_passed_only_beyond_max_hold_days(days, passed):
    assert hold_limit_passed(days, max_hold_days=14) is passed


@pytest.mark.parametrize(("days", "passed"), [(0, False), (14, False), (15, True)])
def test_the_delay_limit_is_passed_only_beyond_max_delay_days(days, passed):
    assert delay_limit_passed(days, max_delay_days=14) is passed


@pytest.mark.parametrize(
    ("minutes", "status"),
    [
        (-30, "taken"),
        (0, "taken"),
        (60, "taken"),
        (61, "late"),
        (720, "late"),
        (721, "taken_outside_window"),
    ],
)
def test_lateness_is_on_time_then_late_up_to_late_dose_hours_then_outside_the_window(
    minutes, status
):
    assert lateness(minutes, on_time_minutes=60, late_dose_hours=12) == status


@pytest.mark.parametrize(
    ("current", "resume", "allowed"),
    [(12, 12, True), (12, 10, True), (10, 12, False), (8, 10, False), (10, 10.0 + 1e-12, True)],
)
def test_no_re_escalation_allows_the_same_or_a_lower_dose_only(current, resume, allowed):
    assert no_re_escalation(current, resume) is allowed


_cycle_fields = st.fixed_dictionaries(
    {
        "number": st.integers(1, 200),
        "day1": st.dates(),
        "end": st.dates(),
        "nominal_day1": st.dates(),
        "delay_days": st.integers(0, 400),
        "dose_mg": st.one_of(st.integers(1, 2000), st.floats(0.5, 2000)),
        "status": st.sampled_from(["planned", "in_progress", "completed", "stopped", "cancelled"]),
        "tentative": st.booleans(),
        "doses": st.just(()),
    }
)


@given(_cycle_fields)
def test_the_cycle_plan_shortcut_equals_the_plain_constructor(fields):
    fast = cycle_plan(**fields)
    plain = CyclePlan(**fields)
    assert type(fast) is CyclePlan
    assert fast == plain
    assert hash(fast) == hash(plain)
    assert repr(fast) == repr(plain)
    assert dataclasses.asdict(fast) == dataclasses.asdict(plain)
    assert pickle.loads(pickle.dumps(fast)) == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.number = 2  # type: ignore[misc]


def test_no_two_core_modules_import_each_other_in_a_loop():
    """Type-checking imports count too: a loop of them is still a loop to read."""
    graph: dict[str, set[str]] = {}
    for path in CORE.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "scheduler.core."
            ):
                imported.add(node.module.split(".")[2])  # type: ignore[union-attr]
        graph[path.stem] = imported

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for module in graph.get(start, ()):
            if module == goal or (module not in seen and reaches(module, goal, seen | {module})):
                return True
        return False

    assert [m for m in graph if reaches(m, m, set())] == []


def test_the_core_imports_nothing_outside_the_core_protocols_and_errors():
    allowed = ("scheduler.core", "scheduler.protocols", "scheduler.errors")
    for path in CORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scheduler"):
                assert (node.module or "").startswith(allowed), (path.name, node.module)
