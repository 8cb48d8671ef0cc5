"""What the appointment tests share: S-014 on NCT03945799 (C1D1 Monday 2026-03-02, surgery
2026-01-20, doses at 07:00), the ZJU1 clinic open Monday to Friday 08:00-12:00 with 30-minute
appointments and two C{cycle}D1 places a day. C2D1's target is Monday 2026-03-23, its window
Friday 03-20 to Thursday 03-26; C3D1's target is Monday 2026-04-13. A plain module."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from icalendar import Calendar

from scheduler.appointments.clinics import set_up_clinic
from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.feeds.serving import subject_calendar
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll

C1D1 = date(2026, 3, 2)
SURGERY = date(2026, 1, 20)
BEFORE_C2 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, Tuesday 03-10


def a_subject_and_a_clinic(units, *codes: str, per_day: int = 2) -> None:
    with units("admin", now=BEFORE_C2) as unit:
        set_up_clinic(
            unit,
            "ZJU1",
            open_days="mon,tue,wed,thu,fri",
            opens_at="08:00",
            closes_at="12:00",
            slot_minutes=30,
            capacities={"C{cycle}D1": per_day},
        )
    with units("nurse", now=BEFORE_C2) as unit:
        for code in codes or ("S-014",):
            enroll(unit, code, c1d1=C1D1, surgery=SURGERY, site_code="ZJU1", dose_time="07:00")


def feed_events(db_url: str, code: str, now: datetime, settings: Settings) -> list[Any]:
    """The subject's feed as a calendar client reads it: its VEVENTs."""
    body = subject_calendar(get_engine(db_url), code, FixedClock(now), settings)
    return list(Calendar.from_ical(body).walk("VEVENT"))


def event_of(events: list[Any], words: str) -> Any:
    """The one event whose title has ``words`` ("cycle 2:" for C2D1)."""
    found = [e for e in events if words in str(e["SUMMARY"])]
    assert len(found) == 1, [str(e["SUMMARY"]) for e in events]
    return found[0]
