"""The clinic's appointments feed, next to the site's visits and pharmacy feeds: one timed event
per booked appointment (subject and visit code in the title, staff only), behind its own token,
redrawn when a booking changes; a booking whose visit has moved says REBOOK. On the demo trial
(2026-03-02; DEMO-002's C3D1 window is 03-16 .. 03-22)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from icalendar import Calendar

from scheduler.appointments.booking import book
from scheduler.appointments.clinics import set_up_clinic
from scheduler.feeds.tokens import APPOINTMENTS, issue_feed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_clinic_feed_lists_each_booked_appointment_at_its_time(web_app, units, settings):
    with units("admin") as unit:
        set_up_clinic(unit, "ZJU1", open_days="mon,tue,wed,thu,fri")
        token = issue_feed(unit, settings, APPOINTMENTS, "ZJU1").token
    with units("nurse") as unit:
        book(unit, "DEMO-002", "C3D1", on="2026-03-19", at="09:00")
    client = TestClient(web_app)
    first = client.get(f"/feeds/{token}.ics")
    assert first.status_code == 200
    calendar = Calendar.from_ical(first.content)
    assert str(calendar["X-WR-CALNAME"]) == "ZJU1 clinic appointments"
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "DEMO-002 C3D1: Cycle 3 Day 1"
    assert event.decoded("DTSTART") == datetime(2026, 3, 19, 9, 0, tzinfo=SHANGHAI)
    assert event.walk("VALARM") == []

    with units("nurse") as unit:
        book(unit, "DEMO-002", "C3D1", on="2026-03-20", at="10:30", reason="patient asked")
    again = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200
    (event,) = Calendar.from_ical(again.content).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2026, 3, 20, 10, 30, tzinfo=SHANGHAI)
    assert int(event["SEQUENCE"]) == 1
