"""A patient reads their calendar, reminders and handout in their own language.

The demo trial (2026-03-02, noon in Shanghai). DEMO-002 is on cycle 2 and reads English, as
every subject enrolled before languages existed; the nurse switches them to Simplified Chinese
(audited, with a reason), and from that commit on their feed, their pending reminders and
their handout are Chinese. A new subject at a site whose language is Chinese reads Chinese
without anyone choosing it. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import select

from scheduler.errors import InputError
from scheduler.feeds.tokens import PATIENT, issue_feed
from scheduler.kernel.sites import get_site
from scheduler.models import AuditEntry, Reminder, Subject
from scheduler.reminders.outbox import set_preference
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.languages import change_language


def _summaries(client: TestClient, token: str) -> list[str]:
    response = client.get(f"/feeds/{token}.ics")
    assert response.status_code == 200
    return [str(e["SUMMARY"]) for e in Calendar.from_ical(response.content).walk("VEVENT")]


def _bodies(units, code: str) -> list[str]:
    with units() as unit:
        subject = unit.session.exec(select(Subject).where(Subject.code == code)).one()
        rows = unit.session.exec(
            select(Reminder).where(Reminder.subject_id == subject.id, Reminder.status == "pending")
        ).all()
        return [row.body for row in rows]


def test_switching_a_subject_to_chinese_rewords_feed_reminders_and_handout(
    web_app, units, settings, staff_client
):
    client = TestClient(web_app)
    with units() as unit:
        token = issue_feed(unit, settings, PATIENT, "DEMO-002").token
        set_preference(unit, "DEMO-002", opted_in=True, channel="console", address="demo-002")
    assert any(s.startswith("Study capsule 12 mg - day") for s in _summaries(client, token))
    assert all(b.startswith("DEMO-002, 2026-") for b in _bodies(units, "DEMO-002"))

    with units("nurse") as unit:
        change_language(unit, "DEMO-002", "zh-CN", reason="patient reads Chinese")

    titles = _summaries(client, token)
    assert "研究用胶囊 12 mg - 第 5 天（共 14 天）" in titles
    assert not any("Study capsule" in t for t in titles)
    bodies = _bodies(units, "DEMO-002")
    assert bodies and all(b.startswith("DEMO-002，3月") for b in bodies)
    handout = staff_client("nurse").get("/subjects/DEMO-002/handout").text
    assert '<div class="handout" lang="zh-CN">' in handout
    assert "您的研究服药日记" in handout and "第 6 天（共 14 天）" in handout
    assert "Your study dosing diary" not in handout
    with units() as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "subject.change_language")
        ).one()
    assert (entry.old_value, entry.new_value, entry.reason) == (
        '"en"',
        '"zh_CN"',
        "patient reads Chinese",
    )


def test_a_change_needs_a_reason_a_shipped_language_and_a_difference(units):
    with units() as unit:
        enroll(unit, "S-101", c1d1="2026-03-09", surgery="2026-02-02", site_code="ZJU1")
    cases = [
        ("fr", "moved", "language"),
        ("zh_CN", "", "reason"),
        ("en", "typed again", "language"),
    ]
    for language, reason, field in cases:
        with pytest.raises(InputError) as error, units() as unit:
            change_language(unit, "S-101", language, reason)
        assert error.value.field == field
    with units() as unit:
        subject = unit.session.exec(select(Subject).where(Subject.code == "S-101")).one()
        changes = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "subject.change_language")
        ).all()
    assert subject.language == "en" and changes == []


def test_enrolment_takes_the_sites_language_unless_it_names_one(units):
    with units("admin") as unit:
        site = get_site(unit.session, "ZJU1")
        site.language = "zh_CN"
        unit.session.add(site)
    with units() as unit:
        by_site = enroll(unit, "S-201", c1d1="2026-03-09", surgery="2026-02-02", site_code="ZJU1")
        named = enroll(
            unit, "S-202", c1d1="2026-03-09", surgery="2026-02-02", site_code="ZJU1", language="en"
        )
    assert (by_site.language, named.language) == ("zh_CN", "en")
    with pytest.raises(InputError) as error, units() as unit:
        enroll(
            unit, "S-203", c1d1="2026-03-09", surgery="2026-02-02", site_code="ZJU1", language="xx"
        )
    assert error.value.field == "language"
    with units() as unit:
        assert unit.session.exec(select(Subject).where(Subject.code == "S-203")).first() is None
