"""`dosing feed-url`, `dosing staff-feed-url` and `dosing ics`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cli_runner import run
from fastapi.testclient import TestClient
from icalendar import Calendar

from scheduler.app.web import create_app
from scheduler.settings import Settings


@pytest.fixture
def db(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DOSING_PUBLIC_BASE_URL", "https://trial.example.org/")
    from scheduler.settings import get_settings

    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    today = datetime.now(UTC).date()  # the CLI reads the system clock
    c1d1, surgery = (
        (today + timedelta(days=3)).isoformat(),
        (today - timedelta(days=30)).isoformat(),
    )
    code, _, err = run(capsys, "enroll", "S-001", "--c1d1", c1d1, "--surgery", surgery, "--db", url)
    assert code == 0, err
    yield url
    get_settings.cache_clear()


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1].removesuffix(".ics")


def test_feed_url_prints_the_https_and_webcal_forms(capsys, db):
    code, out, err = run(capsys, "feed-url", "S-001", "--db", db)
    assert code == 0, err
    https, webcal = out.splitlines()
    assert https.startswith("https://trial.example.org/feeds/") and https.endswith(".ics")
    assert webcal == "webcal://" + https.removeprefix("https://")
    assert len(_token(https)) >= 43  # 32 random bytes, base64url


def test_feed_url_json_then_revoke_json(capsys, db):
    code, out, _ = run(capsys, "feed-url", "S-001", "--json", "--db", db)
    issued = json.loads(out)
    assert code == 0 and issued["owner"] == "S-001"
    assert issued["webcal"] == "webcal://" + issued["https"].removeprefix("https://")
    code, out, _ = run(capsys, "feed-url", "S-001", "--revoke", "--json", "--db", db)
    assert code == 0 and json.loads(out) == {"owner": "S-001", "revoked": 1}


def test_a_second_feed_url_needs_rotate_and_rotation_revokes_the_first(capsys, db, tmp_path):
    first = run(capsys, "feed-url", "S-001", "--db", db)[1].splitlines()[0]
    code, _, err = run(capsys, "feed-url", "S-001", "--db", db)
    assert code == 2 and "--rotate" in err
    second = run(capsys, "feed-url", "S-001", "--rotate", "--db", db)[1].splitlines()[0]
    assert second != first
    client = TestClient(create_app(Settings(database_url=db)))
    assert client.get(f"/feeds/{_token(first)}.ics").status_code == 410
    assert client.get(f"/feeds/{_token(second)}.ics").status_code == 200
    code, out, _ = run(capsys, "feed-url", "S-001", "--revoke", "--reason", "lost", "--db", db)
    assert code == 0 and "revoked 1" in out
    assert client.get(f"/feeds/{_token(second)}.ics").status_code == 410
    audit = run(capsys, "audit", "S-001", "--db", db)[1]
    assert "feed_token.issue" in audit and "feed_token.rotate" in audit
    assert "feed_token.revoke" in audit
    assert _token(first) not in audit and _token(second) not in audit


def test_rotate_and_revoke_together_are_refused(capsys, db):
    code, _, err = run(capsys, "feed-url", "S-001", "--rotate", "--revoke", "--db", db)
    assert code == 2 and err.startswith("error: rotate:")


def test_feed_url_of_an_unknown_subject_names_the_field(capsys, db):
    code, _, err = run(capsys, "feed-url", "S-999", "--db", db)
    assert code == 2 and err.startswith("error: subject:")


def test_staff_feed_url_issues_a_site_visits_and_a_pharmacy_feed(capsys, db):
    visits = run(capsys, "staff-feed-url", "--site", "ZJU1", "--kind", "visits", "--db", db)
    pharmacy = run(capsys, "staff-feed-url", "--site", "ZJU1", "--kind", "pharmacy", "--db", db)
    assert visits[0] == 0 and pharmacy[0] == 0
    client = TestClient(create_app(Settings(database_url=db)))
    body = client.get(f"/feeds/{_token(visits[1].splitlines()[0])}.ics").content
    assert b"S-001 Study visit: Cycle 2 Day 1" in body
    body = client.get(f"/feeds/{_token(pharmacy[1].splitlines()[0])}.ics").content
    assert b"Prepare S-001 C2" in body
    code, _, err = run(capsys, "staff-feed-url", "--site", "ZJU1", "--kind", "nurse", "--db", db)
    assert code == 2 and err.startswith("error: kind:")
    code, _, err = run(capsys, "staff-feed-url", "--site", "NOPE", "--db", db)
    assert code == 2 and err.startswith("error: site:")


def test_ics_writes_the_subjects_calendar_to_a_file(capsys, db, tmp_path):
    out = tmp_path / "s001.ics"
    code, _, err = run(capsys, "ics", "S-001", "-o", str(out), "--db", db)
    assert code == 0, err
    calendar = Calendar.from_ical(out.read_bytes())
    assert len(calendar.events) == 8 * 14 + len(
        [e for e in calendar.events if str(e["SUMMARY"]).startswith("Study visit")]
    )
    again = tmp_path / "again.ics"
    run(capsys, "ics", "S-001", "-o", str(again), "--db", db)
    first, second = out.read_bytes(), again.read_bytes()
    # Same UIDs and sequences; DTSTAMP is each event's stored revision, not the time of export.
    assert first == second


def test_ics_to_an_unwritable_path_names_the_option(capsys, db, tmp_path):
    code, out, err = run(capsys, "ics", "S-001", "-o", str(tmp_path / "no" / "x.ics"), "--db", db)
    assert code == 2 and out == "" and err.startswith("error: out: cannot write")


def test_ics_to_stdout(capsys, db):
    code, out, _ = run(capsys, "ics", "S-001", "--db", db)
    assert code == 0
    assert out.startswith("BEGIN:VCALENDAR")
