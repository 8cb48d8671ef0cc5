"""What the core is given: a subject's anchors and what was recorded about them.

The service layer turns stored rows into these values (leaving out voided records), so the core
never sees a database. Records of one kind are passed in the order they were recorded; for doses
the latest record of a slot is the one that counts (a correction is a new record).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, tzinfo
from typing import Literal

DiscontinuationReason = Literal[
    "relapse", "toxicity", "withdrawal", "death", "investigator", "completed", "other"
]
DISCONTINUATION_REASONS: tuple[str, ...] = (
    "relapse",
    "toxicity",
    "withdrawal",
    "death",
    "investigator",
    "completed",
    "other",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Anchors:
    """The dates and local time a subject's whole plan hangs on."""

    subject: str
    c1d1: date
    surgery: date | None
    """None for a protocol without visits counted from the surgery (it is then never read)."""
    time_zone: tzinfo
    dose_time: time = time(8, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseOutcome:
    """A dose slot recorded as taken (optionally with the local time) or missed."""

    id: int
    on: date
    taken: bool
    slot: int = 1
    taken_at: time | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldStart:
    id: int
    on: date
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldEnd:
    """Dosing restarts on ``on``; ``dose_mg`` None keeps the level in effect before the hold."""

    id: int
    on: date
    dose_mg: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TreatmentStop:
    id: int
    on: date
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ToxicityReport:
    id: int
    term: str
    grade: int
    onset: date
    related: bool = True
    intolerable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitDone:
    id: int
    code: str
    on: date
    deviation: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Day1Assessment:
    """Whether cycle ``cycle``'s day-1 criteria were met, as assessed on ``on``. Of two
    assessments of one cycle on one day, the one recorded later corrects the other."""

    id: int
    cycle: int
    on: date
    met: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """Everything recorded about one subject, voided records already left out."""

    doses: tuple[DoseOutcome, ...] = ()
    holds: tuple[HoldStart, ...] = ()
    resumptions: tuple[HoldEnd, ...] = ()
    discontinuation: TreatmentStop | None = None
    adverse_events: tuple[ToxicityReport, ...] = ()
    visits: tuple[VisitDone, ...] = field(default=())
    day1_assessments: tuple[Day1Assessment, ...] = ()
