"""Withdrawal of consent: a subject's contact details (the reminder address, an email address
or a phone number) are erased everywhere they are stored, the clinical record stays, and the
audit trail says it happened without keeping the values. Reminder addresses show in the audit
views only to the roles that manage reminders. Demo trial at 2026-03-02: DEMO-002 is on C2D5,
so opting in queues reminders."""

import json
from datetime import UTC, datetime

from cli_runner import add_account, run
from fastapi.testclient import TestClient
from sqlmodel import func, select

from scheduler.models import AuditEntry, DoseRecord, Reminder, ReminderPreference, Subject
from scheduler.reminders.erasure import erase_contact_details
from scheduler.reminders.outbox import idempotency_key, set_preference

PHONE = "+8613812345678"


def _opted_in(units) -> int:
    with units() as unit:
        set_preference(unit, "DEMO-002", opted_in=True, channel="webhook", address=PHONE)
    with units() as unit:
        return unit.session.exec(
            select(func.count()).select_from(Reminder).where(Reminder.address == PHONE)
        ).one()


def _where_the_phone_is(units) -> list[str]:
    """Every place outside the audit trail that still holds the number, or the short hash of
    it that idempotency keys end with."""
    route = idempotency_key("dose", "x", "x", datetime(2026, 3, 2, tzinfo=UTC), "webhook", PHONE)
    with units() as unit:
        addresses = unit.session.exec(select(ReminderPreference.address)).all()
        rows = unit.session.exec(select(Reminder.address, Reminder.idempotency_key)).all()
    found = ["reminderpreference.address"] * addresses.count(PHONE)
    found += ["reminder.address" for address, _ in rows if address == PHONE]
    found += ["reminder.idempotency_key" for _, key in rows if key.endswith(route[-12:])]
    return found


def test_erasing_contact_details_keeps_the_clinical_record_and_audits_no_value(
    web_app, units, capsys, db_url
):
    assert _opted_in(units) > 0
    with units() as unit:
        doses_before = unit.session.exec(select(func.count()).select_from(DoseRecord)).one()

    add_account(db_url, "nurse-li", "nurse")
    code, out, err = run(
        capsys,
        "reminders",
        "erase-contact",
        "DEMO-002",
        "--reason",
        "consent withdrawn",
        "--db",
        db_url,
        "--user",
        "nurse-li",
    )

    assert (code, err) == (0, ""), err
    assert "DEMO-002" in out
    assert _where_the_phone_is(units) == []
    with units() as unit:
        preference = unit.session.exec(select(ReminderPreference)).one()
        assert (preference.opted_in, preference.address) == (False, "")
        statuses = set(unit.session.exec(select(Reminder.status).where(Reminder.subject_id > 0)))
        assert "pending" not in statuses and "claimed" not in statuses
        assert unit.session.exec(select(func.count()).select_from(DoseRecord)).one() == (
            doses_before
        )
        subject_id = unit.session.exec(select(Subject.id).where(Subject.code == "DEMO-002")).one()
        erased = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "reminders.contact_erased")
        ).one()
    assert (erased.actor, erased.subject_id, erased.reason) == (
        "nurse-li",
        subject_id,
        "consent withdrawn",
    )
    assert erased.old_value is None and erased.new_value is None
    assert run(capsys, "audit", "verify", "--db", db_url)[0] == 0


def test_erasing_needs_a_reason_and_something_stored_and_otherwise_stores_nothing(
    web_app, units, capsys, db_url
):
    with units() as unit:
        before = unit.session.exec(select(func.count()).select_from(AuditEntry)).one()
    code, _, err = run(
        capsys, "reminders", "erase-contact", "DEMO-002", "--reason", "x", "--db", db_url
    )
    assert code == 2 and err.startswith("error: subject: no contact details are stored")
    _opted_in(units)
    code, _, err = run(
        capsys, "reminders", "erase-contact", "DEMO-002", "--reason", " ", "--db", db_url
    )
    assert code == 2 and err.startswith("error: reason:")
    with units() as unit:
        assert unit.session.exec(select(func.count()).select_from(AuditEntry)).one() == before + 1
        assert unit.session.exec(select(ReminderPreference.address)).one() == PHONE


def _audit_values(client: TestClient, path: str) -> list[object]:
    entries = client.get(path).json()
    return [
        value
        for e in entries
        if e["action"].startswith("reminders.")
        for value in (e["old"], e["new"])
        if value
    ]


def _api(web_app, staff_client, role):
    return TestClient(web_app, headers={"Authorization": f"Bearer {staff_client(role).token}"})


def test_reminder_addresses_show_in_the_audit_only_to_nurses_and_investigators(
    web_app, staff_client, units
):
    _opted_in(units)
    for role, shown in (
        ("nurse", PHONE),
        ("investigator", PHONE),
        ("pharmacist", "(hidden)"),
        ("admin", "(hidden)"),
    ):
        client = _api(web_app, staff_client, role)
        for path in ("/api/audit", "/api/audit?subject=DEMO-002"):
            values = _audit_values(client, path)
            assert [v["address"] for v in values] == [shown], (role, path)
        page = staff_client(role).get("/audit?subject=DEMO-002").text
        assert (PHONE in page) is (shown == PHONE), role


def test_the_subject_page_and_api_show_the_address_only_to_nurses_and_investigators(
    web_app, staff_client, units
):
    _opted_in(units)
    for role, shown in (
        ("nurse", True),
        ("investigator", True),
        ("pharmacist", False),
        ("admin", False),
    ):
        page = staff_client(role).get("/subjects/DEMO-002")
        assert page.status_code == 200
        assert (PHONE in page.text) is shown, role
        answer = _api(web_app, staff_client, role).get("/api/subjects/DEMO-002/reminders").json()
        assert answer["address"] == (PHONE if shown else "(hidden)"), role
        assert answer["opted_in"] is True


def test_after_erasure_no_role_sees_the_address_in_the_audit(web_app, staff_client, units):
    _opted_in(units)
    with units() as unit:
        erase_contact_details(unit, "DEMO-002", reason="consent withdrawn")
    for role in ("nurse", "investigator", "pharmacist", "admin"):
        client = _api(web_app, staff_client, role)
        entries = client.get("/api/audit?subject=DEMO-002").json()
        assert PHONE not in json.dumps(entries), role
        assert [e["reason"] for e in entries if e["action"] == "reminders.contact_erased"] == [
            "consent withdrawn"
        ]
        assert PHONE not in staff_client(role).get("/audit").text, role
