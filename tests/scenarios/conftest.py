"""Fixtures for the scenario tests: one subject on each shipped regimen, fixed dates, no clock.

The anlotinib subject had surgery on 2026-01-20 and starts cycle 1 on Monday 2026-03-02, so the
nominal day 1 of cycle N is 2026-03-02 + 21 x (N - 1): C2 03-23, C3 04-13, C4 05-04, C5 05-25,
C6 06-15, C7 07-06, C8 07-27 (its day 14 is 08-09). The protocols come from tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.core import Anchors, History, Plan, build_plan
from scheduler.protocols import Protocol

C1D1 = date(2026, 3, 2)
SURGERY = date(2026, 1, 20)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def subject() -> Anchors:
    """An anlotinib subject in Shanghai, dosing at the default 08:00."""
    return Anchors(subject="ZJU1-001", c1d1=C1D1, surgery=SURGERY, time_zone=SHANGHAI)


@pytest.fixture
def cape_subject() -> Anchors:
    """A capecitabine subject with the same dates, in Berlin."""
    return Anchors(
        subject="CAPE-001", c1d1=C1D1, surgery=SURGERY, time_zone=ZoneInfo("Europe/Berlin")
    )


@pytest.fixture
def day() -> Callable[[int, int], date]:
    """``day(cycle, n)``: the nominal date of cycle ``cycle`` day ``n`` (no delays)."""

    def nominal(cycle: int, n: int) -> date:
        return C1D1 + timedelta(days=21 * (cycle - 1) + n - 1)

    return nominal


@pytest.fixture
def plan(anlotinib: Protocol, subject: Anchors) -> Callable[..., Plan]:
    """``plan(today, history)``: the anlotinib subject's plan as of ``today``."""

    def make(today: date, history: History | None = None) -> Plan:
        return build_plan(anlotinib, subject, history or History(), today)

    return make
