"""Login, sessions, CSRF and roles on the staff pages."""

import re

from fastapi.testclient import TestClient
from sqlmodel import select
from web_fixtures import PASSWORD, StaffClient, csrf_of, log_in
from web_routes import post_paths

from scheduler.models import AuditEntry, VisitRecord
from scheduler.staff.accounts import verify_password


def _login_post(client, name, password, **extra):
    token = csrf_of(client.get("/login").text)
    data = {"name": name, "password": password, "csrf_token": token, "next": "/", **extra}
    return client.post("/login", data=data, follow_redirects=False)


def test_a_page_without_a_session_redirects_to_the_login_form(web_app):
    response = TestClient(web_app).get("/subjects/DEMO-001?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fsubjects%2FDEMO-001%3Fx%3D1"


def test_the_session_cookie_is_httponly_and_samesite_lax_and_secure_only_over_https(
    web_app, staff_client
):
    staff_client("nurse")  # creates test-nurse
    plain = _login_post(TestClient(web_app), "test-nurse", PASSWORD)
    cookie = plain.headers["set-cookie"]
    assert "dosing_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie
    secure = _login_post(TestClient(web_app, base_url="https://testserver"), "test-nurse", PASSWORD)
    assert "Secure" in secure.headers["set-cookie"]


def test_pages_may_not_be_framed_by_another_site(web_app):
    page = TestClient(web_app).get("/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(web_app, staff_client):
    staff_client("nurse")
    for name, password in (
        ("test-nurse", "wrong password!"),
        ("nobody", PASSWORD),
        ("no\x00body", PASSWORD),
    ):
        response = _login_post(TestClient(web_app), name, password)
        assert response.status_code == 401
        assert "Unknown user name or wrong password." in response.text
        assert "dosing_session" not in response.headers.get("set-cookie", "")


def test_the_login_form_needs_its_own_csrf_token(web_app, staff_client):
    staff_client("nurse")
    client = TestClient(web_app)
    client.get("/login")
    response = client.post(
        "/login", data={"name": "test-nurse", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403 and "dosing_session" not in client.cookies


def test_login_never_redirects_off_the_site(web_app, staff_client):
    staff_client("nurse")
    response = _login_post(TestClient(web_app), "test-nurse", PASSWORD, next="//evil.example/phish")
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_a_form_post_without_the_session_csrf_token_is_refused_and_stores_nothing(
    staff_client, units
):
    nurse = staff_client("nurse")
    with units() as unit:
        before = len(unit.session.exec(select(VisitRecord)).all())
    for token in ("", "forged"):
        response = nurse.post(
            "/subjects/DEMO-001/visits",
            data={"code": "SCR", "on": "2026-03-02", "csrf_token": token},
        )
        assert response.status_code == 403 and "CSRF" in response.text
    with units() as unit:
        assert len(unit.session.exec(select(VisitRecord)).all()) == before


def test_logging_out_ends_the_session_on_the_server(web_app, staff_client):
    nurse = staff_client("nurse")
    cookie = nurse.cookies["dosing_session"]
    assert nurse.form("/logout", {}, follow_redirects=False).status_code == 303
    replay = TestClient(web_app, cookies={"dosing_session": cookie})
    assert replay.get("/audit", follow_redirects=False).status_code == 303


def test_logging_in_and_out_is_audited_under_the_staff_name(staff_client, units):
    nurse: StaffClient = staff_client("nurse")
    nurse.form("/logout", {})
    with units() as unit:
        actions = [
            (e.actor, e.action)
            for e in unit.session.exec(
                select(AuditEntry).where(AuditEntry.action.startswith("staff.log"))
            )
        ]
    assert actions == [("test-nurse", "staff.login"), ("test-nurse", "staff.logout")]


def test_the_audit_page_lists_who_changed_what_and_filters_by_subject(staff_client):
    nurse = staff_client("nurse")
    nurse.form("/subjects/DEMO-001/visits", {"code": "SCR", "on": "2026-03-02"})
    page = staff_client("pharmacist").get("/audit", params={"subject": "DEMO-001"})
    assert page.status_code == 200
    assert "visit.record" in page.text and "test-nurse" in page.text
    assert "DEMO-003" not in page.text
    everything = staff_client("pharmacist").get("/audit").text
    assert "DEMO-003" in everything and "staff.create" in everything


def test_a_second_login_gets_its_own_csrf_token(web_app, staff_client):
    first = staff_client("nurse")
    second = log_in(web_app, "test-nurse")
    assert first.csrf_token != second.csrf_token
    crossed = second.post(
        "/subjects/DEMO-001/visits",
        data={"code": "SCR", "on": "2026-03-02", "csrf_token": first.csrf_token},
    )
    assert crossed.status_code == 403


def test_an_admin_adds_a_nurse_who_can_then_log_in(web_app, staff_client, units):
    admin = staff_client("admin")
    added = admin.form("/admin/staff", {"name": "zhang.wei", "role": "nurse", "password": PASSWORD})
    assert added.status_code == 200 and "Account zhang.wei created." in added.text
    assert log_in(web_app, "zhang.wei").get("/subjects/DEMO-001").status_code == 200
    with units() as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "staff.create")
        ).all()[-1]
    assert entry.actor == "test-admin"


def test_a_short_password_is_refused_on_the_admin_page(staff_client):
    response = staff_client("admin").form(
        "/admin/staff", {"name": "zhang.wei", "role": "nurse", "password": "short"}
    )
    assert response.status_code == 422
    assert re.search(
        r'id="add-password-error" role="alert">is 5 characters; at least 10', response.text
    )
    assert 'value="zhang.wei"' in response.text  # the form keeps what was typed


def test_deactivating_without_a_reason_is_refused_next_to_the_reason(staff_client, units):
    staff_client("nurse")
    response = staff_client("admin").form(
        "/admin/staff/deactivate", {"name": "test-nurse", "reason": " "}
    )
    assert response.status_code == 422
    assert re.search(r'id="deactivate-reason-error" role="alert">must not be empty', response.text)
    with units() as unit:
        assert verify_password(unit.session, "test-nurse", PASSWORD) is not None


def test_only_an_admin_manages_accounts(staff_client):
    for role in ("nurse", "investigator", "pharmacist"):
        client = staff_client(role)
        assert client.get("/admin/staff").status_code == 403
        refused = client.form(
            "/admin/staff", {"name": "mallory", "role": "admin", "password": PASSWORD}
        )
        assert refused.status_code == 403


def test_an_admin_issues_a_token_shown_once_that_works_on_the_api(web_app, staff_client):
    staff_client("nurse")
    page = staff_client("admin").form("/admin/staff/token", {"name": "test-nurse", "label": "x"})
    token = re.search(r'id="new-token".*<code>([^<]+)</code>', page.text).group(1)
    api = TestClient(web_app, headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/subjects/DEMO-001/plan").status_code == 200


def _form_posts(app) -> list[str]:
    """Every POST route of the staff pages (not the API, not the patient's private page and
    one-tap link, whose signed or secret address is their only credential: no session, so no
    CSRF token, and no role; their tests are in tests/patients), DEMO-002 put in for the
    subject."""
    paths = sorted({p.replace("{code}", "DEMO-002") for p in post_paths(app)})
    return [p for p in paths if not p.startswith(("/api/", "/p/", "/tap/"))]


def test_every_form_post_without_the_csrf_token_is_refused_and_writes_nothing(
    web_app, staff_client, units
):
    posts = _form_posts(web_app)
    # The walk must see the forms; if FastAPI's router internals change, this fails loudly.
    assert {
        "/logout",
        "/subjects/DEMO-002/visits",
        "/subjects/DEMO-002/holds",
        "/subjects/DEMO-002/reminders",
        "/admin/staff",
    } <= set(posts)
    investigator = staff_client("investigator")
    with units() as unit:
        before = len(unit.session.exec(select(AuditEntry)).all())
    for path in posts:
        if path == "/login":  # no session yet: its own double-submit token, tested above
            continue
        response = investigator.post(path, data={"on": "2026-03-02", "reason": "toxicity"})
        assert response.status_code == 403, path
        assert "CSRF token is missing" in response.text, path
    with units() as unit:
        assert len(unit.session.exec(select(AuditEntry)).all()) == before


def test_a_pharmacist_is_refused_every_form_outside_the_pharmacy_with_a_403_page(
    web_app, staff_client
):
    pharmacist = staff_client("pharmacist")
    for path in _form_posts(web_app):
        if path in ("/login", "/logout") or path.startswith(("/pharmacy/", "/account/")):
            continue  # the pharmacy's own forms, and every account's own (its page language)
        response = pharmacist.form(path, {"on": "2026-03-02", "code": "C2D1"})
        assert response.status_code == 403, path
        assert "<h1>Not allowed</h1>" in response.text, path
        assert "test-pharmacist is a pharmacist" in response.text, path
    for preview in ("hold-preview", "resume-preview"):
        response = pharmacist.get(f"/subjects/DEMO-004/{preview}", params={"from": "2026-03-02"})
        assert response.status_code == 403


def test_the_audit_page_says_next_to_the_filter_when_the_subject_does_not_exist(staff_client):
    response = staff_client("nurse").get("/audit", params={"subject": "GHOST"})
    assert response.status_code == 404
    assert re.search(
        r'id="audit-subject-error" role="alert">no subject &#39;GHOST&#39;<', response.text
    )


def test_the_audit_page_shows_old_and_new_values_and_why(staff_client):
    investigator = staff_client("investigator")
    investigator.form(
        "/subjects/DEMO-004/resumptions",
        {"on": "2026-03-02", "dose_mg": "10", "reason": "diarrhoea grade 1"},
    )
    page = investigator.get("/audit", params={"subject": "DEMO-004"}).text
    row = re.search(r"<tr><td>[^<]*</td><td>test-investigator</td>.*?</tr>", page, re.S).group(0)
    assert "treatment.resume" in row and "diarrhoea grade 1" in row
    assert "&#34;dose_mg&#34;: 12" in row  # old value
    assert "&#34;dose_mg&#34;: 10" in row  # new value
