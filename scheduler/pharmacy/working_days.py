"""Working-day arithmetic for the pharmacy lead time: the pharmacy does not prepare on
weekends or on the site's holidays, so "2 working days before day 1" skips them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

_DAY = timedelta(days=1)


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def working_days_before(day: date, count: int, holidays: Collection[date]) -> date:
    """The date ``count`` working days before ``day``; with 0, the last working day on or
    before ``day`` (the pharmacy still needs a working day to prepare)."""
    current = day
    if count == 0:
        while not is_working_day(current, holidays):
            current -= _DAY
        return current
    remaining = count
    while remaining:
        current -= _DAY
        if is_working_day(current, holidays):
            remaining -= 1
    return current
