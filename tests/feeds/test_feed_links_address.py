"""Feed links and QR codes carry the address the app is served at: the request's host, or
DOSING_PUBLIC_BASE_URL when set; a loopback address shows the nurse a warning."""

import re

import pytest
from web_fixtures import log_in

from scheduler.app.web import create_app
from scheduler.settings import Settings
from scheduler.web.public_url import is_loopback


def _issued_link(client, host: str = "testserver") -> str:
    page = client.form("/subjects/DEMO-002/feed", {"reason": "new phone"}, headers={"host": host})
    assert page.status_code == 200
    return re.search(r'<code class="feed-url">(webcal://[^<]+)</code>', page.text).group(1)


def test_the_link_uses_the_host_the_page_was_asked_at(staff_client):
    nurse = staff_client("nurse")
    host = "ward-pc.hospital.example:8765"
    assert _issued_link(nurse, host).startswith(f"webcal://{host}/feeds/")
    page = nurse.form("/subjects/DEMO-002/feed", {"reason": "again"}, headers={"host": host})
    assert 'id="loopback-warning"' not in page.text


def test_a_loopback_address_warns_the_nurse_on_the_link_and_the_handout(staff_client):
    nurse = staff_client("nurse")
    loopback = {"host": "127.0.0.1:8765"}
    page = nurse.form("/subjects/DEMO-002/feed", {"reason": "new phone"}, headers=loopback)
    assert "webcal://127.0.0.1:8765/feeds/" in page.text
    assert 'id="loopback-warning" role="alert"' in page.text
    handout = nurse.form("/subjects/DEMO-002/handout", {}, headers=loopback)
    assert 'id="loopback-warning"' in handout.text


def test_the_configured_public_address_wins(web_app, db_url, clock, units):
    from scheduler.staff.accounts import create_staff

    with units("admin-setup") as unit:
        create_staff(unit, "pub-nurse", role="nurse", password="correct horse battery staple")
    app = create_app(
        Settings(database_url=db_url, user="web", public_base_url="https://trial.example.org/"),
        clock,
    )
    nurse = log_in(app, "pub-nurse")
    assert _issued_link(nurse).startswith("webcal://trial.example.org/feeds/")


def test_the_api_answer_uses_the_request_host_too(staff_client):
    nurse = staff_client("nurse")
    nurse.base_url = "https://dosing.hospital.example"
    answer = nurse.post("/api/subjects/DEMO-002/feed", json={"rotate": True}).json()
    assert answer["https"].startswith("https://dosing.hospital.example/feeds/")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("webcal://127.0.0.1:8000/feeds/x.ics", True),
        ("http://127.8.9.10/feeds/x.ics", True),
        ("http://localhost:8000/x", True),
        ("https://[::1]:8443/x", True),
        ("https://trial.example.org/x", False),
        ("http://10.0.0.5:8000/x", False),
    ],
)
def test_what_counts_as_loopback(url, loopback):
    assert is_loopback(url) is loopback
