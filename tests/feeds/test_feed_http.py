"""The feed URL over HTTP: status codes, caching headers, gzip, secrecy and failure modes."""

from __future__ import annotations

import gzip
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import create_engine, event
from sqlalchemy.exc import OperationalError
from sqlmodel import select

import calendars
import calendars.render
from scheduler.app.demo import seed_demo
from scheduler.app.web import create_app
from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.feeds import endpoint as feed_endpoint
from scheduler.feeds.pages import qr_svg
from scheduler.feeds.tokens import PATIENT, PHARMACY, SITE_VISITS, issue_feed, revoke_feed
from scheduler.kernel.protocol_versions import load_shipped_protocols
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.unit import unit_of_work
from scheduler.models import Site
from scheduler.settings import Settings
from scheduler.subjects.treatment import hold


@pytest.fixture
def feed_app(web_app):
    return web_app


@pytest.fixture
def client(feed_app) -> TestClient:
    return TestClient(feed_app)


@pytest.fixture
def issue(feed_app, units, settings):
    def make(kind: str = PATIENT, code: str = "DEMO-002") -> str:
        with units() as unit:
            return issue_feed(unit, settings, kind, code).token

    return make


def _path(token: str) -> str:
    return f"/feeds/{token}.ics"


def test_a_patient_feed_is_served_as_an_icalendar_with_cache_headers(client, issue):
    response = client.get(_path(issue()), headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["etag"].startswith('"') and len(response.headers["etag"]) == 66
    assert response.headers["last-modified"].endswith("GMT")
    assert "set-cookie" not in response.headers
    calendar = Calendar.from_ical(response.content)
    assert len(calendar.events) > 100


def test_the_feed_needs_no_staff_login_and_ignores_a_staff_session(staff_client, issue):
    nurse = staff_client("nurse")
    response = nurse.get(_path(issue()))
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


def test_if_none_match_with_the_etag_answers_304_without_a_body(client, issue):
    path = _path(issue())
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["last-modified"] == first.headers["last-modified"]
    weak = client.get(path, headers={"If-None-Match": f'"x", W/{first.headers["etag"]}'})
    assert weak.status_code == 304


def test_if_none_match_with_another_etag_answers_200(client, issue):
    path = _path(issue())
    response = client.get(path, headers={"If-None-Match": '"0000"'})
    assert response.status_code == 200
    assert response.content.startswith(b"BEGIN:VCALENDAR")


def test_if_modified_since_at_or_after_the_revision_answers_304(client, issue):
    path = _path(issue())
    first = client.get(path)
    same = client.get(path, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert same.status_code == 304


@pytest.mark.parametrize(
    "value",
    [
        format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True),
        "garbage",
        "",
        "Tue, 99 Foo 2026 25:61:00 GMT",
        format_datetime(datetime(2099, 1, 1, tzinfo=UTC), usegmt=True),
    ],
    ids=["older", "garbage", "empty", "invalid", "future"],
)
def test_if_modified_since_older_invalid_or_garbage_answers_200(client, issue, value):
    response = client.get(_path(issue()), headers={"If-Modified-Since": value})
    assert response.status_code == 200
    assert response.content.startswith(b"BEGIN:VCALENDAR")


def test_if_none_match_wins_over_if_modified_since(client, issue):
    path = _path(issue())
    first = client.get(path)
    response = client.get(
        path,
        headers={"If-None-Match": '"other"', "If-Modified-Since": first.headers["last-modified"]},
    )
    assert response.status_code == 200


def test_head_gives_the_headers_of_get_and_no_body(client, issue):
    path = _path(issue())
    get = client.get(path, headers={"Accept-Encoding": "identity"})
    head = client.head(path, headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == "text/calendar; charset=utf-8"


def test_gzip_when_asked_with_its_own_strong_etag(client, issue):
    path = _path(issue())
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decodes it
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3
    refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
    revalidated = client.get(
        path, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
    )
    assert revalidated.status_code == 304


def test_gzip_body_is_the_gzip_of_the_feed(feed_app, issue):
    path = _path(issue())
    with TestClient(feed_app) as client:
        plain = client.get(path).content
        stream = client.stream("GET", path, headers={"Accept-Encoding": "gzip"})
        with stream as response:
            raw = b"".join(response.iter_raw())
    assert gzip.decompress(raw) == plain


def test_unknown_token_is_404_and_revoked_is_410(client, issue, units):
    token = issue()
    assert client.get(_path("x" * 43)).status_code == 404
    assert client.head(_path("x" * 43)).status_code == 404
    with units() as unit:
        revoke_feed(unit, PATIENT, "DEMO-002", reason="phone lost")
    gone = client.get(_path(token))
    assert gone.status_code == 410
    assert b"BEGIN:VCALENDAR" not in gone.content


def test_rotation_revokes_the_old_url(client, issue):
    old = issue()
    new = issue()
    assert client.get(_path(old)).status_code == 410
    assert client.get(_path(new)).status_code == 200


def test_staff_feeds_are_behind_their_own_tokens(client, issue):
    visits = client.get(_path(issue(SITE_VISITS, "ZJU1")))
    pharmacy = client.get(_path(issue(PHARMACY, "ZJU1")))
    patient = client.get(_path(issue(PATIENT, "DEMO-002")))
    assert b"X-WR-CALNAME:ZJU1 study visits" in visits.content
    assert b"X-WR-CALNAME:ZJU1 pharmacy preparation" in pharmacy.content
    assert b"DEMO-001" in visits.content and b"DEMO-002" in visits.content
    assert b"Prepare DEMO-" in pharmacy.content
    assert b"DEMO-" not in patient.content


def test_a_change_moves_the_etag_and_last_modified(feed_app, client, issue, units):
    path = _path(issue(code="DEMO-002"))
    first = client.get(path)
    later = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    with units(now=later) as unit:
        hold(unit, "DEMO-002", start="2026-03-02", reason="grade 3 hypertension")
    feed_app.state.clock = FixedClock(later)
    stale = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert stale.status_code == 200
    assert stale.headers["etag"] != first.headers["etag"]
    assert stale.headers["last-modified"] == format_datetime(later, usegmt=True)
    assert b"HOLD - do not take" in stale.content


@pytest.mark.parametrize("format_raised", [True, False])
def test_a_new_render_format_serves_the_new_bytes_instead_of_a_304(
    client, issue, monkeypatch, format_raised
):
    """A deployment that changes the feed's bytes for an unchanged plan (here its PRODID)
    must reach clients holding the old ETag; without RENDER_FORMAT raised it would not."""
    path = _path(issue(code="DEMO-002"))
    first = client.get(path)
    monkeypatch.setattr(calendars.render, "PRODID", "-//dosing-scheduler//fixed renderer//EN")
    if format_raised:
        monkeypatch.setattr(calendars, "RENDER_FORMAT", calendars.RENDER_FORMAT + 1)
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    if format_raised:
        assert again.status_code == 200
        assert again.headers["etag"] != first.headers["etag"]
        assert b"PRODID:-//dosing-scheduler//fixed renderer//EN" in again.content
    else:
        assert again.status_code == 304


def test_the_revision_advances_when_a_cancelled_event_drops_out(feed_app, client, issue, units):
    path = _path(issue(code="DEMO-004"))  # on hold now: held doses are cancelled events
    first = client.get(path)
    assert b"STATUS:CANCELLED" in first.content
    later = datetime(2026, 3, 2, 4, 0, tzinfo=UTC) + timedelta(days=45)
    feed_app.state.clock = FixedClock(later)
    response = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert response.status_code == 200
    assert response.headers["last-modified"] != first.headers["last-modified"]


def test_too_many_requests_for_one_token_is_429(db_url, web_app, issue, clock):
    app = create_app(
        Settings(database_url=db_url, user="web", feed_rate_burst=3, feed_rate_per_second=0.01),
        clock,
    )
    client = TestClient(app)
    path = _path(issue())
    codes = [client.get(path).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    limited = client.get(path)
    assert int(limited.headers["retry-after"]) >= 1
    other = client.get(_path(issue(SITE_VISITS, "ZJU1")))
    assert other.status_code == 200


def test_a_database_failure_is_503_with_retry_after_never_an_empty_200(
    feed_app, client, issue, monkeypatch
):
    path = _path(issue())

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(feed_endpoint, "fetch_feed", broken)
    response = client.get(path)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "120"
    assert b"VCALENDAR" not in response.content


def test_the_token_never_appears_in_the_access_log(feed_app, issue, caplog):
    token = issue()
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    # What uvicorn's access logger is called with for each request.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/feeds/{token}.ics", "1.1", 200
    )
    assert caplog.records
    assert token not in caplog.text
    assert '"GET /feeds/[redacted].ics HTTP/1.1" 200' in caplog.text


def test_an_unknown_and_a_revoked_token_cost_the_same_single_query(feed_app, client, issue, units):
    """404 and 410 in the same time: one indexed lookup on the token's hash either way, with
    the same statement, and nothing else read (no timing in a unit test: the work is counted)."""
    revoked = issue()
    with units() as unit:
        revoke_feed(unit, PATIENT, "DEMO-002")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = feed_app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        unknown = client.get(_path(secrets.token_urlsafe(32)))
        unknown_statements = list(statements)
        statements.clear()
        gone = client.get(_path(revoked))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert (unknown.status_code, gone.status_code) == (404, 410)
    assert len(unknown_statements) == 1
    assert statements == unknown_statements


def test_a_real_database_failure_is_503_with_retry_after(feed_app, client, issue, tmp_path):
    path = _path(issue())
    assert client.get(path).status_code == 200
    working = feed_app.state.engine
    feed_app.state.engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'gone.db'}")
    try:
        response = client.get(path, headers={"If-None-Match": '"stale"'})
    finally:
        feed_app.state.engine = working
    assert response.status_code == 503
    assert response.headers["retry-after"] == "120"
    assert response.headers["cache-control"] == "no-store"
    assert b"VCALENDAR" not in response.content


def test_any_failure_behind_the_feed_is_503_not_a_partial_calendar(
    feed_app, client, issue, monkeypatch
):
    path = _path(issue())

    def broken(*args, **kwargs):
        raise RuntimeError("plan could not be derived")

    monkeypatch.setattr(feed_endpoint, "fetch_feed", broken)
    response = client.get(path)
    assert response.status_code == 503
    assert b"VCALENDAR" not in response.content


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_token_never_reaches_the_running_servers_logs(sqlite_url, tmp_path):
    """``dosing serve`` in a subprocess (uvicorn's own logging configuration and access log):
    after feed requests of every kind, neither stdout nor stderr holds the token."""
    settings = Settings(database_url=sqlite_url, user="setup")
    with unit_of_work(
        get_engine(sqlite_url), "setup", FixedClock(datetime(2026, 3, 2, 4, 0, tzinfo=UTC))
    ) as unit:
        load_shipped_protocols(unit)
        seed_demo(unit, ensure_default_site(unit, settings))
        token = issue_feed(unit, settings, PATIENT, "DEMO-002").token
        revoked = issue_feed(unit, settings, PATIENT, "DEMO-003").token
        revoke_feed(unit, PATIENT, "DEMO-003")
    get_engine(sqlite_url).dispose()
    port = _free_port()
    log_file = tmp_path / "server.log"
    env = {**os.environ, "DOSING_SCHEDULER_ENABLED": "false", "DOSING_USER": "web"}
    with log_file.open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from scheduler.app.cli import main; main()",
                "serve",
                "--port",
                str(port),
                "--db",
                sqlite_url,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{base}/login", timeout=1)
                    break
                except httpx.TransportError:
                    assert server.poll() is None and time.monotonic() < deadline
                    time.sleep(0.2)
            codes = [
                httpx.get(f"{base}/feeds/{token}.ics").status_code,
                httpx.head(f"{base}/feeds/{token}.ics").status_code,
                httpx.get(f"{base}/feeds/{token}.ics?nocache=1").status_code,
                httpx.get(f"{base}/feeds/{token}").status_code,
                httpx.get(f"{base}/feeds/{revoked}.ics").status_code,
            ]
        finally:
            server.terminate()
            server.wait(20)
    assert codes == [200, 200, 200, 404, 410]
    logged = log_file.read_text()
    assert logged.count("/feeds/[redacted]") == 5, logged
    assert token not in logged and revoked not in logged
    assert token[:12] not in logged and revoked[:12] not in logged


_FEED_URL = re.compile(r'<code class="feed-url">(webcal://[^<]+)</code>')
_TOKEN = re.compile(r"/feeds/([A-Za-z0-9_-]{43})\.ics")


def test_the_subjects_feed_page_issues_a_link_with_its_qr_code_once(staff_client, units):
    nurse = staff_client("nurse")
    before = nurse.get("/subjects/DEMO-002/feed")
    assert before.status_code == 200 and "No calendar link is live" in before.text
    issued = nurse.form("/subjects/DEMO-002/feed", {"reason": "first subscription"})
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    assert issued.headers["referrer-policy"] == "no-referrer"
    webcal = _FEED_URL.search(issued.text)
    assert webcal is not None
    token = _TOKEN.search(webcal.group(1))
    assert token is not None
    assert f"http://testserver/feeds/{token.group(1)}.ics" in issued.text
    assert '<div class="qr"' in issued.text and "<svg" in issued.text and "<path" in issued.text
    assert nurse.get(_path(token.group(1))).status_code == 200
    later = nurse.get("/subjects/DEMO-002/feed")
    assert token.group(1) not in later.text and "A calendar link is live" in later.text
    unconfirmed = nurse.form("/subjects/DEMO-002/feed/revoke", {"reason": "phone lost"})
    assert unconfirmed.status_code == 422 and "tick the confirmation" in unconfirmed.text
    assert nurse.get(_path(token.group(1))).status_code == 200
    revoked = nurse.form(
        "/subjects/DEMO-002/feed/revoke", {"reason": "phone lost", "confirm": "yes"}
    )
    assert "No calendar link is live (1 withdrawn)" in revoked.text
    assert nurse.get(_path(token.group(1))).status_code == 410


def test_a_pharmacist_can_see_but_not_issue_a_patients_feed_link(staff_client):
    pharmacist = staff_client("pharmacist")
    assert pharmacist.get("/subjects/DEMO-002/feed").status_code == 200
    refused = pharmacist.form("/subjects/DEMO-002/feed", {"reason": "x"})
    assert refused.status_code == 403
    assert "/feeds/" not in refused.text


def _diary_days(html: str) -> list[str]:
    return re.findall(r"<tr><td>(Day \d+ of \d+)(?:, dose \d)?</td>", html)


def test_the_handout_has_the_diary_to_the_next_cycle_visits_and_the_clinic_phone(
    staff_client, units
):
    """The diary covers the rest of the running cycle and the next one (it used to start at the
    next cycle, leaving a patient mid-cycle without lines for the doses they were taking)."""
    nurse = staff_client("nurse")
    with units() as unit:
        plan = subject_state(unit.session, "DEMO-002", unit.now).plan()
    running = next(c for c in plan.cycles if c.day1 <= plan.today <= c.end)
    upcoming = next(c for c in plan.cycles if c.day1 >= plan.today)
    page = nurse.get("/subjects/DEMO-002/handout")
    assert page.status_code == 200
    html = page.text
    assert "@media print" in html and "@page" in html
    assert f"Cycle {running.number}: {running.day1} to {running.end}" in html
    assert f"Cycle {upcoming.number}: {upcoming.day1} to {upcoming.end}" in html
    planned = [
        s
        for c in (running, upcoming)
        for s in c.doses
        if s.status == "planned" and s.date >= plan.today
    ]
    assert len(planned) == 10 + 14
    assert _diary_days(html) == [f"Day {s.day} of 14" for s in planned]
    assert html.count('<td class="box">') == len(planned)
    assert html.count('<td class="box" style="width:20mm">') == len(planned)
    assert "12 mg at 09:00" in html
    assert '<span class="phone">+86 571 0000 0000</span>' in html
    next_visits = [v for v in plan.visits if v.status in ("planned", "due")][:3]
    for visit in next_visits:
        assert f"<td>{visit.name}</td><td>{visit.target}</td>" in html
    assert "Study number: DEMO-002" in html
    assert '<div class="qr">' not in html  # no link is issued by just looking


def test_the_handout_phone_comes_from_the_sites_settings(staff_client, units):
    with units() as unit:
        site = unit.session.exec(select(Site).where(Site.code == "ZJU1")).one()
        site.phone = "+86 571 8888 1234"
        unit.session.add(site)
    html = staff_client("nurse").get("/subjects/DEMO-002/handout").text
    assert '<span class="phone">+86 571 8888 1234</span>' in html


def test_the_printed_handout_carries_the_qr_of_the_link_just_issued(staff_client):
    nurse = staff_client("nurse")
    issued = nurse.form("/subjects/DEMO-002/feed", {"reason": "handout"})
    token = _TOKEN.search(issued.text)
    assert token is not None
    handout = nurse.form("/subjects/DEMO-002/handout", {"token": token.group(1)})
    assert handout.status_code == 200
    assert handout.headers["cache-control"] == "no-store"
    assert '<div class="qr">' in handout.text and "<path" in handout.text
    assert nurse.get(_path(token.group(1))).status_code == 200  # the same link, not a new one
    assert qr_svg(f"webcal://testserver/feeds/{token.group(1)}.ics") in handout.text


def test_a_handout_printed_without_a_link_issues_one_and_revokes_the_old(staff_client):
    nurse = staff_client("nurse")
    first = _TOKEN.search(nurse.form("/subjects/DEMO-002/feed", {"reason": "x"}).text)
    assert first is not None
    handout = nurse.form("/subjects/DEMO-002/handout", {"token": "not-the-token"})
    assert '<div class="qr">' in handout.text
    assert nurse.get(_path(first.group(1))).status_code == 410
