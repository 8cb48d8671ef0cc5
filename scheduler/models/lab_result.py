"""Lab results and vital signs as reported, and corrections of which result is the baseline."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field

from scheduler.models.recorded import Recorded


class LabResult(Recorded, table=True):
    """One result of one test (a code of the CTCAE grading table) on one day, as the lab or the
    nurse reported it: value, unit and the site's normal range in that unit. The value and range
    in the test's grading unit are stored beside them (the conversion is pint's, at recording).
    The grade is not stored: it depends on the baseline, which can be corrected. A second result
    of a test on one day from the same source corrects the first (``corrects_id``, a reason)."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    test: str = Field(max_length=16)
    taken_on: date
    reported: str = Field(max_length=32)
    """The result as written (``88``, ``2+``): SDTM's LBORRES."""
    value: float
    unit: str = Field(max_length=16)
    lln: float | None = None
    uln: float | None = None
    value_std: float
    lln_std: float | None = None
    uln_std: float | None = None
    source: str = Field(default="clinic", max_length=8)
    """``clinic`` (a lab or a visit measurement) or ``home`` (a home blood pressure reading)."""
    adverse_event_id: int | None = Field(default=None, foreign_key="adverseevent.id")
    """The adverse event this result proposed, when its grade reached the protocol's threshold."""
    corrects_id: int | None = Field(default=None, foreign_key="labresult.id")
    reason: str = Field(default="", max_length=500)


class LabBaseline(Recorded, table=True):
    """A correction of a subject's baseline for one test: the result named (or none, when
    ``result_id`` is empty) is the baseline from now on, instead of the last result before
    cycle 1 day 1. The latest correction of a test counts."""

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    test: str = Field(max_length=16)
    result_id: int | None = Field(default=None, foreign_key="labresult.id")
    reason: str = Field(max_length=500)
