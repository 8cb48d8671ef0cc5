"""Staff work at their sites: an account bound to site B neither reads nor writes a subject of
site A (the demo's ZJU1) through any page, API operation or CLI command, and its lists hold
only site B's subjects. Accounts without sites are study-wide."""

import io
from datetime import date

import pytest
from cli_runner import add_account, run
from fastapi.testclient import TestClient
from sqlmodel import func, select
from web_fixtures import PASSWORD, StaffClient, log_in
from web_routes import paths_of

from scheduler.app.demo import DEMO_CODES
from scheduler.errors import NotFound
from scheduler.kernel.sites import bind_account
from scheduler.models import AuditEntry, Site, StaffSite
from scheduler.staff.accounts import create_staff, issue_api_token, set_sites
from scheduler.subjects.enrolment import enroll

SITE_B = "SITE-B"
B_SUBJECT = "B-001"
FORM = {
    "code": "C2D1",
    "on": "2026-03-02",
    "date": "2026-03-02",
    "start": "2026-03-02",
    "onset": "2026-03-02",
    "from": "2026-03-02",
    "at": "08:00",
    "taken": "yes",
    "term": "hypertension",
    "grade": "2",
    "dose_mg": "10",
    "cycle": "2",
    "strength_mg": "4",
    "strength": "4",
    "lot": "L123",
    "expiry": "2027-01-31",
    "count": "14",
    "returned": "0",
    "reason": "as planned",
    "note": "checked",
    "channel": "console",
    "address": "patient@example.org",
    "met": "yes",
}
"""One form that every subject form reads without a complaint of its own, so each answer is
about the subject, not the typing."""
JSON = {
    "date": "2026-03-02",
    "on": "2026-03-02",
    "start": "2026-03-02",
    "onset": "2026-03-02",
    "taken": True,
    "code": "C2D1",
    "term": "hypertension",
    "grade": 2,
    "related": True,
    "dose_mg": 10,
    "reason": "other",
    "note": "checked",
    "channel": "console",
    "address": "patient@example.org",
    "opted_in": False,
    "test": "ANC",
    "value": "1.2",
    "criterion": "NO_TRANSFUSION",
    "answer": "yes",
    "source": "clinic",
    "visit_code": "C3D1",
    "at": "08:00",
    "alert_unreported": True,
    "outcome": "confirm",
}
"""One valid value for each key an API body on a subject takes, so each answer is about the
subject (``source`` is both a lab result's origin and an eligibility answer's document)."""
PATH = {"code": "DEMO-002", "cycle": 2, "visit": "C3D1", "report_id": 1}
"""A valid value for each parameter of a subject's API path: a path parameter left as
``{name}`` would be refused for itself before anyone asks whose subject it is."""


def _body_keys(schema: dict, operation: dict) -> set[str]:
    """The keys the operation's JSON body takes (a body refuses any other)."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = body.get("schema", {}).get("$ref", "")
    if not ref:
        return set()
    return set(schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"])


def _counts(units) -> tuple[int, int]:
    with units() as unit:
        audit = unit.session.exec(select(func.count()).select_from(AuditEntry)).one()
        sites = unit.session.exec(select(func.count()).select_from(StaffSite)).one()
    return audit, sites


@pytest.fixture
def site_b(web_app, units) -> dict[str, StaffClient]:
    """Site B with one subject, and a nurse, an investigator and a pharmacist who work there
    (logged in, each with an API token)."""
    with units("admin-setup") as unit:
        unit.session.add(Site(code=SITE_B, name="Site B", time_zone="Asia/Shanghai"))
        unit.session.flush()
        enroll(unit, B_SUBJECT, c1d1=date(2026, 2, 9), surgery=date(2026, 1, 5), site_code=SITE_B)
        tokens = {}
        for role in ("nurse", "investigator", "pharmacist"):
            create_staff(unit, f"{role}-b", role=role, password=PASSWORD, sites=[SITE_B])
            tokens[role] = issue_api_token(unit, f"{role}-b")
    clients = {}
    for role, token in tokens.items():
        client = log_in(web_app, f"{role}-b")
        client.token = token
        clients[role] = client
    return clients


def _api(web_app, client: StaffClient) -> TestClient:
    return TestClient(web_app, headers={"Authorization": f"Bearer {client.token}"})


def test_every_subject_page_of_another_site_is_a_404(web_app, site_b):
    pages = sorted(p for p in paths_of(web_app, "GET") if "{code}" in p and "/api/" not in p)
    assert {"/subjects/{code}", "/subjects/{code}/feed", "/pharmacy/subjects/{code}"} <= set(pages)
    for path in pages:
        answers = {
            role: client.get(path.replace("{code}", "DEMO-002"), params={"from": "2026-03-02"})
            for role, client in site_b.items()
        }
        statuses = {role: a.status_code for role, a in answers.items()}
        assert set(statuses.values()) <= {403, 404} and 404 in statuses.values(), (path, statuses)
        assert all("DEMO-002" not in a.text or "no subject" in a.text for a in answers.values())
        # The subject of the account's own site is there.
        own = site_b["investigator"].get(path.replace("{code}", B_SUBJECT))
        assert own.status_code != 404, path


def test_every_subject_form_of_another_site_is_a_404_and_stores_nothing(web_app, site_b, units):
    forms = sorted(p for p in paths_of(web_app, "POST") if p.startswith(("/subjects/", "/pharm")))
    assert len(forms) >= 15
    before = _counts(units)
    for path in forms:
        url = path
        for name, value in PATH.items():
            url = url.replace(f"{{{name}}}", str(value))
        statuses = {role: c.form(url, FORM).status_code for role, c in site_b.items()}
        assert set(statuses.values()) <= {403, 404} and 404 in statuses.values(), (path, statuses)
    assert _counts(units) == before


def test_every_api_operation_on_another_site_s_subject_is_a_404_and_stores_nothing(
    web_app, site_b, units
):
    schema = web_app.openapi()
    operations = [
        (method, path, _body_keys(schema, operation))
        for path, ops in schema["paths"].items()
        if "{code}" in path
        for method, operation in ops.items()
    ]
    assert len(operations) >= 14
    before = _counts(units)
    for method, path, keys in operations:
        url = path.format(**PATH)  # a KeyError names a path parameter PATH does not know
        body = {key: value for key, value in JSON.items() if key in keys}
        statuses = {}
        for role, client in site_b.items():
            answer = _api(web_app, client).request(method.upper(), url, json=body)
            statuses[role] = answer.status_code
            if answer.status_code == 404:
                assert answer.json()["error"] == {
                    "field": "subject",
                    "reason": "no subject 'DEMO-002'",
                }
        assert set(statuses.values()) <= {403, 404} and 404 in statuses.values(), (path, statuses)
    assert _counts(units) == before


def test_lists_hold_only_the_account_s_sites(web_app, site_b, staff_client):
    nurse_b, pharmacist_b = site_b["nurse"], site_b["pharmacist"]
    study_wide = staff_client("nurse")
    lists = {
        "worklist page": nurse_b.get("/", params={"date": "2026-03-02"}).text,
        "worklist api": _api(web_app, nurse_b).get("/api/worklist").text,
        "overview": nurse_b.get("/overview").text,
        "pharmacy list": pharmacist_b.get(
            "/pharmacy", params={"from": "2026-02-01", "to": "2026-06-30"}
        ).text,
        "audit page": nurse_b.get("/audit").text,
        "audit api": _api(web_app, nurse_b).get("/api/audit").text,
    }
    for name, text in lists.items():
        assert not any(code in text for code in DEMO_CODES), name
    assert B_SUBJECT in lists["overview"] and B_SUBJECT in lists["audit page"]
    assert B_SUBJECT in lists["pharmacy list"]
    # Site pickers offer only the account's sites; naming another is "no site".
    assert 'value="ZJU1"' not in lists["overview"] and ">ZJU1<" not in lists["worklist page"]
    for url in ("/?site=ZJU1", "/overview?site=ZJU1", "/pharmacy?site=ZJU1"):
        answer = nurse_b.get(url) if "pharmacy" not in url else pharmacist_b.get(url)
        assert answer.status_code == 404 and "no site" in answer.text, url
    refused = _api(web_app, nurse_b).get("/api/worklist", params={"site": "ZJU1"})
    assert refused.status_code == 404 and refused.json()["error"]["field"] == "site"
    # A study-wide account sees both sites.
    everything = study_wide.get("/audit").text
    assert B_SUBJECT in everything and "DEMO-002" in everything


def test_the_cli_acting_as_a_site_bound_account_is_bound_the_same_way(
    site_b, db_url, capsys, units
):
    def dosing(user, *argv):
        return run(capsys, *argv, "--db", db_url, "--user", user)

    code, _, err = dosing("nurse-b", "plan", "DEMO-002")
    assert code == 2 and "no subject 'DEMO-002'" in err
    code, _, err = dosing("nurse-b", "dose", "DEMO-002", "--date", "2026-03-01", "--taken")
    assert code == 2 and "no subject 'DEMO-002'" in err
    code, out, _ = dosing("nurse-b", "subjects")
    assert code == 0 and B_SUBJECT in out and "DEMO-002" not in out
    code, out, _ = dosing("nurse-b", "due", "--json")
    assert code == 0 and "DEMO-" not in out
    code, out, _ = dosing("nurse-b", "export", "sv")
    assert code == 0 and "DEMO-" not in out
    code, _, err = dosing("nurse-b", "export", "ex", "--site", "ZJU1")
    assert code == 2 and "no site 'ZJU1'" in err
    code, _, err = dosing("nurse-b", "staff-feed-url", "--site", "ZJU1")
    assert code == 2 and "no site 'ZJU1'" in err
    # A name that is no staff account does nothing at all.
    code, out, err = dosing("front-desk", "subjects")
    assert (code, out) == (2, "") and err.startswith("error: user: 'front-desk' is not a staff")


def test_dosing_user_add_with_sites_and_changing_them_is_audited(
    site_b, db_url, capsys, units, web_app, monkeypatch
):
    add_account(db_url, "site-admin", "admin")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = run(
        capsys,
        *("user", "add", "li.na", "--role", "nurse", "--site", SITE_B, "--site", "ZJU1"),
        *("--password-stdin", "--db", db_url, "--user", "site-admin"),
    )
    assert (code, out.strip()) == (0, f"created li.na (nurse at {SITE_B}, ZJU1)"), err
    nurse = log_in(web_app, "li.na")
    assert nurse.get("/subjects/DEMO-002").status_code == 200
    assert nurse.get(f"/subjects/{B_SUBJECT}").status_code == 200
    code, out, err = run(
        capsys,
        *("user", "sites", "li.na", "--site", SITE_B, "--reason", "moved to site B"),
        *("--db", db_url, "--user", "site-admin"),
    )
    assert (code, out.strip()) == (0, f"li.na works at {SITE_B}"), err
    assert nurse.get("/subjects/DEMO-002").status_code == 404  # at the next request
    code, _, err = run(
        capsys, "user", "sites", "li.na", "--site", "NOWHERE", "--reason", "x", "--db", db_url,
        "--user", "site-admin",
    )  # fmt: skip
    assert code == 2 and "no site 'NOWHERE'" in err
    with units() as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "staff.sites")
        ).one()
    assert entry.actor == "site-admin" and entry.reason == "moved to site B"
    assert '"ZJU1"' in (entry.old_value or "") and '"ZJU1"' not in (entry.new_value or "")


def test_an_admin_sets_sites_on_the_page_and_through_the_api(web_app, site_b, staff_client):
    admin = staff_client("admin")
    added = admin.form(
        "/admin/staff",
        {"name": "wang.fang", "role": "nurse", "password": PASSWORD, "site": [SITE_B]},
    )
    assert added.status_code == 200 and f"<td>wang.fang</td><td>nurse</td><td>{SITE_B}</td>" in (
        added.text
    )
    assert log_in(web_app, "wang.fang").get("/subjects/DEMO-002").status_code == 404
    api = _api(web_app, admin)
    answer = api.put("/api/staff/wang.fang/sites", json={"sites": [], "reason": "monitor now"})
    assert answer.status_code == 200 and answer.json()["sites"] == []
    assert log_in(web_app, "wang.fang").get("/subjects/DEMO-002").status_code == 200
    unknown = api.post(
        "/api/staff",
        json={"name": "x.y", "role": "nurse", "password": PASSWORD, "sites": ["NOWHERE"]},
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "site"
    assert api.get("/api/staff").json()[-1]["name"] == "wang.fang"  # x.y was not stored


def test_an_account_bound_to_a_site_grants_no_other_site(site_b, units):
    with units("nurse-b") as unit:
        bind_account(unit.session, "nurse-b")
        with pytest.raises(NotFound) as refused:
            set_sites(unit, "nurse-b", ["ZJU1"], reason="let me in")
    assert refused.value.field == "site"


def test_an_admin_of_site_b_sees_only_site_b_reminders_in_the_outbox(web_app, site_b, units):
    """The outbox page names subjects: an admin bound to site B sees B's failed reminder and
    neither site A's nor the counts that include it."""
    from datetime import UTC, datetime

    from scheduler.models import Reminder, Subject

    at = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    with units("admin-setup") as unit:
        create_staff(unit, "admin-b", role="admin", password=PASSWORD, sites=[SITE_B])
        for code in (DEMO_CODES[0], B_SUBJECT):
            subject = unit.session.exec(select(Subject).where(Subject.code == code)).one()
            unit.session.add(
                Reminder(
                    kind="dose",
                    subject_id=subject.id,
                    site_id=subject.site_id,
                    item_key=f"{code}-C1D1",
                    due_at=at,
                    expires_at=at,
                    channel="console",
                    address="x@example.org",
                    idempotency_key=f"test.{code}",
                    status="failed",
                    attempts=5,
                    next_attempt_at=at,
                    last_error="refused",
                    title="Dose",
                    body="Dose",
                    created_at=at,
                    updated_at=at,
                )
            )
    page = log_in(web_app, "admin-b").get("/admin/reminders")
    assert page.status_code == 200
    assert B_SUBJECT in page.text
    assert DEMO_CODES[0] not in page.text
    counts = page.text.split('id="counts"')[1].split("</table>")[0]
    assert "<td>failed</td><td>1</td>" in counts
