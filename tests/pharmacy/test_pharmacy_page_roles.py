"""Who may record on the pharmacy pages: the pharmacist only. Nurses, investigators and admins
read the list and a subject's accountability without forms, and the server refuses their posts
(hiding a form is only a courtesy). A post without the session's CSRF token is refused too, and
none of these refusals stores anything."""

from sqlmodel import select
from web_routes import post_paths

from scheduler.models import AuditEntry

FORMS = {
    "/pharmacy/subjects/DEMO-001/preparations": {"cycle": "1"},
    "/pharmacy/subjects/DEMO-001/restock": {"cycle": "1", "reason": "plan changed"},
    "/pharmacy/subjects/DEMO-003/dispensings": {
        "cycle": "3",
        "date": "2026-02-17",
        "strength": "10",
        "count": "14",
        "lot": "L1",
        "expiry": "2027-01-01",
    },
    "/pharmacy/subjects/DEMO-003/returns": {
        "cycle": "3",
        "date": "2026-03-02",
        "strength": "10",
        "count": "1",
    },
    "/pharmacy/subjects/DEMO-003/reviews": {"cycle": "3", "note": "checked"},
    "/pharmacy/subjects/DEMO-003/not-needed": {"cycle": "1", "reason": "dispensed on paper"},
}
"""Every pharmacy form with values a pharmacist could post."""


def _pharmacy_posts(app) -> set[str]:
    return {p for p in post_paths(app) if p.startswith("/pharmacy")}


def _entries(units) -> int:
    with units() as unit:
        return len(unit.session.exec(select(AuditEntry)).all())


def test_the_forms_here_are_every_pharmacy_post_route(web_app):
    routes = {p.replace("DEMO-001", "{code}").replace("DEMO-003", "{code}") for p in FORMS}
    assert _pharmacy_posts(web_app) == routes


def test_other_roles_read_the_pharmacy_pages_without_forms(staff_client):
    for role in ("nurse", "investigator", "admin"):
        client = staff_client(role)
        for path in ("/pharmacy", "/pharmacy/subjects/DEMO-003"):
            page = client.get(path)
            assert page.status_code == 200, (role, path)
            assert 'action="/pharmacy/subjects/' not in page.text, (role, path)
            assert f"Read only: recording needs the pharmacist role (you are {role})" in page.text
        assert "DEMO-001" in client.get("/pharmacy").text


def test_only_a_pharmacist_may_post_a_pharmacy_form(staff_client, units):
    clients = {role: staff_client(role) for role in ("nurse", "investigator", "admin")}
    before = _entries(units)
    for role, client in clients.items():
        for path, data in FORMS.items():
            response = client.form(path, data)
            assert response.status_code == 403, (role, path)
            assert f"test-{role} is a {role}; this needs the role pharmacist" in response.text
    assert _entries(units) == before


def test_a_pharmacy_post_without_the_csrf_token_is_refused_and_stores_nothing(staff_client, units):
    pharmacist = staff_client("pharmacist")
    before = _entries(units)
    for path, data in FORMS.items():
        for token in ("", "forged"):
            response = pharmacist.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 403, path
            assert "CSRF token is missing" in response.text, path
    assert _entries(units) == before
    # The same posts with the token do go through.
    assert pharmacist.form(*next(iter(FORMS.items()))).status_code == 200
    assert _entries(units) == before + 1
