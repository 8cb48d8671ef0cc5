"""A cycle moves and its booked appointment goes stale: a hold from C2D17 (2026-04-08, a rest
day) spans C3D1's target (Monday 2026-04-13); dosing resumes on Monday 2026-04-20, so C3D1 moves
to 04-20 (window 04-17 .. 04-23). The appointment booked for 04-13 is flagged on the worklist
("rebook: C3D1 moved to 2026-04-20"), the patient's feed says "date to be confirmed" and no
longer shows 04-13, and booking again clears both while the first appointment stays,
superseded, with the reason. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from appointment_kit import BEFORE_C2, a_subject_and_a_clinic, event_of, feed_events

from scheduler.appointments.booking import book, history
from scheduler.appointments.day_list import day_list
from scheduler.subjects.treatment import hold, resume
from scheduler.worklist.items import worklist

ON_HOLD = datetime(2026, 4, 8, 2, 0, tzinfo=UTC)
RESUMED = datetime(2026, 4, 20, 2, 0, tzinfo=UTC)


def _rebook_items(units, now: datetime) -> list[str]:
    with units(now=now) as unit:
        return [
            i.detail
            for i in worklist(unit.session, unit.now, site_code="ZJU1")
            if i.kind == "rebook"
        ]


def test_a_delay_flags_the_booking_hides_its_date_and_rebooking_clears_it(units, db_url, settings):
    a_subject_and_a_clinic(units)
    with units("nurse", now=BEFORE_C2) as unit:
        book(unit, "S-014", "C3D1", on="2026-04-13", at="09:00")
    booked = event_of(feed_events(db_url, "S-014", BEFORE_C2, settings), "cycle 3:")
    assert booked.decoded("DTSTART") == datetime(2026, 4, 13, 1, 0, tzinfo=UTC)
    assert _rebook_items(units, BEFORE_C2) == []

    with units("nurse", now=ON_HOLD) as unit:
        hold(unit, "S-014", start="2026-04-08", reason="grade 3 hypertension")
    # Behind an open hold the date is not known: the hold's row stands for the visit.
    held = event_of(feed_events(db_url, "S-014", ON_HOLD, settings), "cycle 3:")
    assert "date to be confirmed" in str(held["SUMMARY"])
    assert _rebook_items(units, ON_HOLD) == []

    with units("investigator", now=RESUMED) as unit:
        resume(unit, "S-014", on="2026-04-20")
    assert _rebook_items(units, RESUMED) == [
        "rebook: C3D1 moved to 2026-04-20 (booked 2026-04-13 09:00, window 2026-04-17 to "
        "2026-04-23)"
    ]
    stale = event_of(feed_events(db_url, "S-014", RESUMED, settings), "cycle 3:")
    assert str(stale["SUMMARY"]) == (
        "Study visit: first day of cycle 3: collect your capsules (date to be confirmed)"
    )
    assert stale.decoded("DTSTART") == date(2026, 4, 20)  # all day: no time to come at
    assert "2026-04-13" not in str(stale["DESCRIPTION"])
    assert stale.walk("VALARM") == []
    with units(now=RESUMED) as unit:
        (line,) = day_list(unit.session, unit.now, date(2026, 4, 13), "ZJU1")
    assert line.stale

    with units("nurse", now=RESUMED) as unit:
        book(
            unit, "S-014", "C3D1", on="2026-04-21", at="10:30", reason="cycle 3 delayed by the hold"
        )
    assert _rebook_items(units, RESUMED) == []
    rebooked = event_of(feed_events(db_url, "S-014", RESUMED, settings), "cycle 3:")
    assert rebooked.decoded("DTSTART") == datetime(2026, 4, 21, 2, 30, tzinfo=UTC)
    assert "2026-04-21 at 10:30" in str(rebooked["DESCRIPTION"])
    with units() as unit:
        rows = history(unit.session, 1)
    assert [(r.day, r.reason, superseded) for r, superseded in rows] == [
        (date(2026, 4, 13), "", True),
        (date(2026, 4, 21), "cycle 3 delayed by the hold", False),
    ]
