"""The only module that reads the wall clock. Everything else is handed ``now`` or ``today``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class FixedClock:
    """A clock that always reads the same instant, for tests, golden files and replays."""

    instant: datetime

    def __post_init__(self) -> None:
        if self.instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware instant")

    def now(self) -> datetime:
        return self.instant.astimezone(UTC)


def local_today(now: datetime, time_zone: str) -> date:
    """The calendar date at the subject's site: plans are in local dates."""
    return now.astimezone(ZoneInfo(time_zone)).date()
