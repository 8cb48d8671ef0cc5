"""The Reminders section of the subject page, on the demo trial at 2026-03-02 (the fixed clock):
DEMO-002 is on C2D5 of 12 mg, so opting in queues dose reminders for the days ahead. Nurses and
investigators change the choice; pharmacists and admins read it, and the server refuses their
post whatever the page shows."""

import re

import pytest
from sqlmodel import func, select

from scheduler.models import AuditEntry, Reminder, ReminderPreference, Subject
from scheduler.reminders.outbox import set_preference


def _reminders(units, code: str, status: str = "pending") -> list[Reminder]:
    with units() as unit:
        return list(
            unit.session.exec(
                select(Reminder)
                .join(Subject, Subject.id == Reminder.subject_id)
                .where(Subject.code == code, Reminder.status == status)
            )
        )


def _count(units, table) -> int:
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(table)).one()


def _error_next_to(page: str, field: str) -> str:
    found = re.search(rf'id="reminders-{field}-error" role="alert">([^<]*)<', page)
    assert found, f"no error shown next to reminders.{field}"
    return found.group(1)


def test_a_nurse_opts_a_subject_in_by_email_and_the_reminders_and_the_audit_follow(
    staff_client, units
):
    nurse = staff_client("nurse")
    page = nurse.get("/subjects/DEMO-002").text
    assert "Not opted in" in page and 'id="reminders-form"' in page
    assert 'id="reminders-off-form"' not in page

    response = nurse.form(
        "/subjects/DEMO-002/reminders",
        {"opted_in": "yes", "channel": "email", "address": "patient2@example.org"},
    )

    assert response.status_code == 200 and "Reminders on" in response.text
    queued = _reminders(units, "DEMO-002")
    assert queued and {r.channel for r in queued} == {"email"}
    assert {r.address for r in queued} == {"patient2@example.org"}
    assert "Opted in: email to patient2@example.org" in response.text
    assert f'id="reminders-pending">{len(queued)}<' in response.text
    with units() as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "reminders.opt_in")
        ).one()
    assert entry.actor == "test-nurse" and "patient2@example.org" in (entry.new_value or "")


def test_a_bad_address_is_shown_next_to_the_address_as_typed_and_nothing_is_stored(
    staff_client, units
):
    investigator = staff_client("investigator")
    audit_before = _count(units, AuditEntry)
    response = investigator.form(
        "/subjects/DEMO-002/reminders",
        {"opted_in": "yes", "channel": "webhook", "address": "0138 0000 0000"},
    )
    assert response.status_code == 422
    assert "is not a phone number in E.164 form" in _error_next_to(response.text, "address")
    assert 'value="0138 0000 0000"' in response.text
    assert re.search(r'<option value="webhook" selected>', response.text)
    assert _count(units, ReminderPreference) == 0 and _count(units, Reminder) == 0
    assert _count(units, AuditEntry) == audit_before


def test_opting_out_from_the_page_cancels_the_pending_reminders(staff_client, units):
    with units() as unit:
        set_preference(unit, "DEMO-002", opted_in=True, channel="console", address="ward-3")
    queued = _reminders(units, "DEMO-002")
    nurse = staff_client("nurse")
    assert 'id="reminders-off-form"' in nurse.get("/subjects/DEMO-002").text

    response = nurse.form("/subjects/DEMO-002/reminders", {"opted_in": "no"})

    assert response.status_code == 200 and "Reminders off" in response.text
    assert queued and _reminders(units, "DEMO-002") == []
    assert len(_reminders(units, "DEMO-002", "cancelled")) == len(queued)
    assert "Not opted in (before: console (demo) to ward-3)" in response.text
    assert 'id="reminders-pending">0<' in response.text


@pytest.mark.parametrize("role", ["pharmacist", "admin"])
def test_pharmacists_and_admins_see_the_choice_without_a_form_and_are_refused_the_post(
    staff_client, units, role
):
    with units() as unit:
        set_preference(unit, "DEMO-002", opted_in=True, channel="email", address="p2@example.org")
    reader = staff_client(role)
    page = reader.get("/subjects/DEMO-002").text
    assert "Opted in: email to (hidden)" in page  # a patient's contact detail
    assert "p2@example.org" not in page
    assert 'action="/subjects/DEMO-002/reminders"' not in page
    assert "changing it needs the nurse or investigator role" in page

    response = reader.form("/subjects/DEMO-002/reminders", {"opted_in": "no"})

    assert response.status_code == 403 and "<h1>Not allowed</h1>" in response.text
    with units() as unit:
        preference = unit.session.exec(select(ReminderPreference)).one()
    assert preference.opted_in
