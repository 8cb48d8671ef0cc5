"""The feed URL over HTTP: status codes, caching headers, gzip, secrecy and failure modes."""

from __future__ import annotations

import gzip
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.exc import OperationalError

from scheduler.clock import FixedClock
from scheduler.services.feeds import PATIENT, PHARMACY, SITE_VISITS, issue_feed, revoke_feed
from scheduler.services.treatment import hold
from scheduler.settings import Settings
from scheduler.web import feeds as web_feeds
from scheduler.web.app import create_app


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

    monkeypatch.setattr(web_feeds, "fetch_feed", broken)
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
