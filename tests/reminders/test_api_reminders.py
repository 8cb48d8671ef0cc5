"""A subject's reminder choice through the API: the service and roles of the subject page (any
staff may read it; nurses and investigators change it), with token authentication only. Demo
trial at 2026-03-02: DEMO-002 is on C2D5, so opting in queues reminders."""

from fastapi.testclient import TestClient
from sqlmodel import func, select

from scheduler.models import AuditEntry, Reminder, ReminderPreference

PATH = "/api/subjects/DEMO-002/reminders"


def _api(web_app, staff_client, role):
    token = staff_client(role).token
    return TestClient(web_app, headers={"Authorization": f"Bearer {token}"})


def _open_reminders(units) -> int:
    with units() as unit:
        return unit.session.exec(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.status == "pending", Reminder.kind.in_(("dose", "visit")))
        ).one()


def test_a_nurse_opts_in_and_out_and_the_answer_counts_the_pending_reminders(
    web_app, staff_client, units
):
    nurse = _api(web_app, staff_client, "nurse")
    before = nurse.get(PATH)
    assert before.status_code == 200
    assert before.json() == {
        "opted_in": False,
        "channel": None,
        "address": None,
        "pending": 0,
        "updated_at": None,
        "updated_by": None,
    }

    opted_in = nurse.put(
        PATH, json={"opted_in": True, "channel": "webhook", "address": "+8613800000000"}
    )

    assert opted_in.status_code == 200
    body = opted_in.json()
    assert (body["opted_in"], body["channel"], body["address"], body["updated_by"]) == (
        True,
        "webhook",
        "+8613800000000",
        "test-nurse",
    )
    assert body["pending"] == _open_reminders(units) > 0
    assert nurse.get(PATH).json() == body

    opted_out = nurse.put(PATH, json={"opted_in": False})

    assert opted_out.status_code == 200
    assert opted_out.json()["opted_in"] is False and opted_out.json()["pending"] == 0
    assert _open_reminders(units) == 0
    with units() as unit:
        actions = unit.session.exec(
            select(AuditEntry.action, AuditEntry.actor).where(
                AuditEntry.action.startswith("reminders.")
            )
        ).all()
    assert actions == [("reminders.opt_in", "test-nurse"), ("reminders.opt_out", "test-nurse")]


def test_refused_values_name_the_field_and_store_nothing(web_app, staff_client, units):
    investigator = _api(web_app, staff_client, "investigator")
    cases = [
        ({"opted_in": True, "channel": "email", "address": "not-an-address"}, 422, "address"),
        ({"opted_in": True, "channel": "email", "address": "p\u0000@example.org"}, 422, "address"),
        ({"opted_in": True, "channel": "pigeon", "address": "p@example.org"}, 422, "channel"),
        ({"opted_in": True, "address": "p@example.org"}, 422, "channel"),
        ({"opted_in": False}, 422, "subject"),  # never opted in
    ]
    for body, status, field in cases:
        response = investigator.put(PATH, json=body)
        assert response.status_code == status, body
        assert response.json()["error"]["field"] == field, body
    missing = investigator.put(
        "/api/subjects/GHOST/reminders",
        json={"opted_in": True, "channel": "email", "address": "p@example.org"},
    )
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "subject"
    with units() as unit:
        assert unit.session.exec(select(ReminderPreference)).all() == []


def test_every_role_reads_but_only_nurses_and_investigators_change(web_app, staff_client):
    change = {"opted_in": True, "channel": "email", "address": "p2@example.org"}
    for role in ("pharmacist", "admin"):
        api = _api(web_app, staff_client, role)
        assert api.get(PATH).status_code == 200, role
        refused = api.put(PATH, json=change)
        assert refused.status_code == 403, role
        assert refused.json()["error"]["field"] == "role"
    assert _api(web_app, staff_client, "investigator").put(PATH, json=change).status_code == 200
    # A patient's contact detail: read by the roles that manage reminders only.
    assert _api(web_app, staff_client, "admin").get(PATH).json()["address"] == "(hidden)"
    assert _api(web_app, staff_client, "nurse").get(PATH).json()["address"] == "p2@example.org"


def test_the_api_needs_a_token_not_the_session_cookie(web_app, staff_client):
    assert TestClient(web_app).get(PATH).status_code == 401
    nurse = staff_client("nurse")  # logged in with the cookie; the hook adds the token
    nurse.event_hooks["request"].clear()
    assert nurse.get(PATH).status_code == 401
    assert nurse.put(PATH, json={"opted_in": False}).status_code == 401
