"""The app's own settings, not the process environment's, decide what a write through the
app derives: here the reminder horizon of rows re-derived after a dose recorded on the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from scheduler.app.web import create_app
from scheduler.kernel.sites import ensure_default_site
from scheduler.models import Reminder
from scheduler.reminders.outbox import set_preference
from scheduler.settings import Settings, get_settings
from scheduler.staff.accounts import create_staff, issue_api_token
from scheduler.subjects.enrolment import enroll

PASSWORD = "correct horse battery staple"


@pytest.fixture
def narrow_environment(monkeypatch):
    """The process environment asks for reminders two days ahead only."""
    monkeypatch.setenv("DOSING_REMINDER_HORIZON_DAYS", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _dose_keys(units) -> set[str]:
    with units("reader") as unit:
        rows = unit.session.exec(select(Reminder).where(Reminder.kind == "dose")).all()
        return {r.item_key for r in rows if r.status == "pending"}


def test_a_write_through_the_api_derives_reminders_with_the_apps_settings(
    narrow_environment, units, db_url, clock, settings
):
    with units() as unit:
        ensure_default_site(unit, settings)
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1")
        set_preference(unit, "S-001", opted_in=True, channel="email", address="p@example.org")
        create_staff(unit, "test-nurse", role="nurse", password=PASSWORD)
        token = issue_api_token(unit, "test-nurse", label="tests")
    assert "C1D10" not in _dose_keys(units)  # derived with the environment's two days

    app = create_app(Settings(database_url=db_url, user="web", reminder_horizon_days=15), clock)
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    answer = client.post("/api/subjects/S-001/doses", json={"date": "2026-03-02", "taken": True})

    assert answer.status_code == 201, answer.text
    assert {"C1D10", "C1D14"} <= _dose_keys(units)  # re-derived with the app's fifteen days
