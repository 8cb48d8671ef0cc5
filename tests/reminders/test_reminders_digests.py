"""Staff digests: what the nurses and the pharmacy of each site are sent, and when, on SQLite and
PostgreSQL.

Two sites: ZJU1 in Shanghai (UTC+8) and NYC1 in New York (UTC-4 in mid-March). Four subjects at
ZJU1 and one at NYC1; S-002 is on hold for grade 3 hypertension since 10 March, S-004 resumed at
10 mg after a hold. The digests are built at 07:30 local on Monday 16 March 2026: 23:30 UTC on
the 15th for ZJU1, 11:30 UTC on the 16th for NYC1.
"""

import re
import time as wall
from datetime import UTC, date, datetime, time, timedelta

import pytest
from reminder_testkit import SECRET, SteppedClock
from sqlmodel import col, select

from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.kernel.sites import ensure_default_site
from scheduler.models import Reminder
from scheduler.pharmacy.accountability import dispense
from scheduler.pharmacy.preparation_list import TO_PREPARE, preparation_list
from scheduler.reminders.jobs import ReminderJobs, build_digests
from scheduler.settings import Settings
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold, resume
from scheduler.subjects.visits import record_visit
from scheduler.worklist.items import worklist

DAY = date(2026, 3, 16)
ZJU1_AT = datetime(2026, 3, 15, 23, 30, tzinfo=UTC)
NYC1_AT = datetime(2026, 3, 16, 11, 30, tzinfo=UTC)
ADDRESSES = {
    "nurse_digest_to": {"ZJU1": ["ward3@example.org"], "NYC1": ["ny-ward@example.org"]},
    "pharmacy_digest_to": {"ZJU1": ["pharmacy@example.org"], "NYC1": ["ny-pharmacy@example.org"]},
}
LABELS = {
    "visit_due": "visit due",
    "visit_overdue": "visit overdue",
    "visit_in_window": "visit in window",
    "unrecorded_doses": "doses to record",
    "missed_doses": "missed doses",
    "on_hold": "on hold: review",
    "proposal": "decision needed",
    "day1_check": "day1 check",
    "drug_discrepancy": "drug return to review",
    "awaiting_signature": "awaiting signature",
}
"""How the digest names each kind of worklist item."""
CODE = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"
ISO = r"\d{4}-\d{2}-\d{2}"
WHAT = (
    r"[A-Z0-9]+|\d+ missed|cycle \d+(?: \d+ mg)?|\d+ of \d+ days|diary|discontinue|[a-z_0-9]+-\d+"
)
NURSE_LINE = rf"- {CODE}: (?:{'|'.join(map(re.escape, LABELS.values()))}) \((?:{WHAT})\)"
PHARMACY_LINE = (
    rf"- {CODE} cycle \d+ \(day 1 {ISO}\): \d+ x \d+ mg(?:, \d+ x \d+ mg)*, prepare by {ISO}"
)
"""Every line a digest may have: codes, dates, counts, strengths and fixed words; no drug,
term, reason or site detail (the site code heads the digest, for staff who serve several)."""


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


def _site(unit, code, zone):
    ensure_default_site(
        unit,
        Settings(database_url="sqlite://", default_site_code=code, default_site_time_zone=zone),
    )


@pytest.fixture
def digest_settings(db_url):
    return Settings(database_url=db_url, **ADDRESSES)


@pytest.fixture
def trial(units):
    with units() as unit:
        _site(unit, "NYC1", "America/New_York")
        for code in ("S-001", "S-002", "S-004"):
            enroll(unit, code, c1d1="2026-03-02", surgery="2026-02-01", site_code="ZJU1")
        enroll(unit, "S-003", c1d1="2026-03-09", surgery="2026-02-01", site_code="ZJU1")
        enroll(unit, "N-001", c1d1="2026-03-02", surgery="2026-02-01", site_code="NYC1")
        record_visit(unit, "S-001", "C1D1", on="2026-03-02")
    with units(now=_utc(2026, 3, 5, 4)) as unit:
        hold(unit, "S-004", start="2026-03-05", reason="grade 3 hypertension")
    with units(now=_utc(2026, 3, 9, 4)) as unit:
        resume(unit, "S-004", on="2026-03-09", dose_mg=10)
    with units("pharmacist", now=_utc(2026, 3, 9, 4)) as unit:
        # Cycle 1 of each subject was dispensed at its day 1, and S-004's 10 mg capsules for
        # the rest of cycle 1 on the day dosing resumed: nothing of cycle 1 is left to prepare.
        dispensed = [(c, "2026-03-02", 12, 14) for c in ("S-001", "S-002", "S-004", "N-001")]
        dispensed += [("S-003", "2026-03-09", 12, 14), ("S-004", "2026-03-09", 10, 7)]
        for code, on, strength, count in dispensed:
            dispense(
                unit, code, cycle=1, on=on, strength=strength, count=count, lot="AN26",
                expiry="2027-06-30", reason="prepared on paper",
            )  # fmt: skip
    with units(now=_utc(2026, 3, 10, 4)) as unit:
        record_adverse_event(unit, "S-002", term="hypertension", grade=3, onset="2026-03-10")
        hold(unit, "S-002", start="2026-03-10", reason="grade 3 hypertension")


def _digests(units, site=None):
    with units() as unit:
        query = select(Reminder).where(col(Reminder.kind).in_(["nurse_digest", "pharmacy_digest"]))
        rows = unit.session.exec(query.order_by(Reminder.due_at, Reminder.kind)).all()
    return {(r.item_key, r.kind): r for r in rows if site is None or r.item_key == site}


def test_the_nurse_digest_lists_who_is_due_that_day_at_that_site(units, trial, digest_settings):
    assert (
        build_digests(
            get_engine(digest_settings.database_url), digest_settings, FixedClock(ZJU1_AT)
        )
        == 2
    )
    digest = _digests(units)[("ZJU1", "nurse_digest")]
    assert (digest.address, digest.title) == (
        "ward3@example.org",
        "Who is due at ZJU1 on 2026-03-16",
    )
    lines = digest.body.splitlines()
    assert lines[0] == "ZJU1 2026-03-16: who is due"
    assert "- S-001: visit due (C1D15)" in lines
    assert "- S-001: visit overdue (C1D1)" not in lines  # done on 2 March
    assert "- S-002: on hold: review (7 of 14 days)" in lines
    assert "- S-003: visit overdue (SCR)" in lines
    assert not any("N-001" in line for line in lines)  # another site's subject
    with units() as unit:
        items = worklist(unit.session, ZJU1_AT, site_code="ZJU1", on=DAY)
    expected = sorted(
        f"- {i.subject}: {LABELS[i.kind]} ({i.what})"
        for i in sorted(items, key=lambda i: (i.subject, i.kind, i.what))
    )
    assert sorted(lines[1:]) == expected and len(expected) >= 10
    for line in lines[1:]:
        assert re.fullmatch(NURSE_LINE, line), line
    assert "hypertension" not in digest.body and "grade" not in digest.body


def test_the_pharmacy_digest_lists_what_to_prepare_for_whom_at_which_strength_by_when(
    units, trial, digest_settings
):
    build_digests(get_engine(digest_settings.database_url), digest_settings, FixedClock(ZJU1_AT))
    digest = _digests(units)[("ZJU1", "pharmacy_digest")]
    assert (digest.address, digest.title) == (
        "pharmacy@example.org",
        "To prepare at ZJU1 on 2026-03-16",
    )
    assert digest.body.splitlines() == [
        "ZJU1 2026-03-16: to prepare",
        "- S-001 cycle 2 (day 1 2026-03-23): 14 x 12 mg, prepare by 2026-03-19",
        "- S-004 cycle 2 (day 1 2026-03-23): 14 x 10 mg, prepare by 2026-03-19",  # reduced
    ]  # S-002 is on hold: nothing to prepare; S-003's cycle 2 is prepared from 26 March
    with units() as unit:
        listing = preparation_list(unit.session, ZJU1_AT, site_code="ZJU1", start=DAY)
    to_prepare = [r for r in listing.rows if r.status == TO_PREPARE]
    assert [
        (r.subject, r.cycle, r.day1, [(c.count, c.strength_mg) for c in r.capsules], r.prepare_by)
        for r in to_prepare
    ] == [
        ("S-001", 2, date(2026, 3, 23), [(14, 12)], date(2026, 3, 19)),
        ("S-004", 2, date(2026, 3, 23), [(14, 10)], date(2026, 3, 19)),
    ]
    assert any(r.subject == "S-002" and r.status != TO_PREPARE for r in listing.rows)
    for line in digest.body.splitlines()[1:]:
        assert re.fullmatch(PHARMACY_LINE, line), line


def test_each_site_gets_its_digests_at_its_own_local_time(units, trial, digest_settings):
    engine = get_engine(digest_settings.database_url)
    queued = {
        at: build_digests(engine, digest_settings, FixedClock(at))
        for at in (
            ZJU1_AT - timedelta(minutes=1),  # 07:29 in Shanghai, 19:29 the day before in New York
            ZJU1_AT,
            ZJU1_AT + timedelta(hours=1),  # again: already queued
            NYC1_AT - timedelta(minutes=1),
            NYC1_AT,
            NYC1_AT + timedelta(hours=3, minutes=59),
        )
    }
    assert list(queued.values()) == [0, 2, 0, 0, 2, 0]
    digests = _digests(units)
    assert {key: row.due_at for key, row in digests.items()} == {
        ("ZJU1", "nurse_digest"): ZJU1_AT,
        ("ZJU1", "pharmacy_digest"): ZJU1_AT,
        ("NYC1", "nurse_digest"): NYC1_AT,
        ("NYC1", "pharmacy_digest"): NYC1_AT,
    }
    nyc1 = digests[("NYC1", "nurse_digest")].body.splitlines()
    assert nyc1[0] == "NYC1 2026-03-16: who is due"
    assert "- N-001: visit due (C1D15)" in nyc1 and not any("S-00" in line for line in nyc1)
    assert digests[("NYC1", "pharmacy_digest")].body.splitlines()[1:] == [
        "- N-001 cycle 2 (day 1 2026-03-23): 14 x 12 mg, prepare by 2026-03-19"
    ]


def test_a_digest_whose_grace_runs_past_midnight_is_still_queued_after_it(units, digest_settings):
    """Digests at 22:00 in Shanghai with 4 h of grace: at 01:00 the next day (a restart after
    an outage) the previous evening's digests are queued, with that evening's time."""
    settings = digest_settings.model_copy(update={"digest_time": time(22, 0)})
    engine = get_engine(settings.database_url)
    evening = _utc(2026, 3, 16, 14, 0)  # 22:00 on 16 March in Shanghai
    assert build_digests(engine, settings, FixedClock(evening + timedelta(hours=3))) == 2
    assert build_digests(engine, settings, FixedClock(evening + timedelta(hours=4))) == 0
    digests = _digests(units, "ZJU1")
    assert {row.due_at for row in digests.values()} == {evening}
    assert digests[("ZJU1", "nurse_digest")].title == "Who is due at ZJU1 on 2026-03-16"


def test_a_site_added_while_the_scheduler_runs_gets_its_digests_without_a_restart(
    units, digest_settings, smtp_receiver, webhook_receiver
):
    settings = digest_settings.model_copy(
        update={
            "smtp_port": smtp_receiver.port,
            "webhook_url": webhook_receiver.url,
            "webhook_secret": SECRET,
            "reminder_poll_seconds": 0.2,
        }
    )
    clock = SteppedClock(ZJU1_AT + timedelta(minutes=5))
    jobs = ReminderJobs(get_engine(settings.database_url), settings, clock)
    jobs.start()
    try:
        assert _arrived(smtp_receiver, 2)  # ZJU1's two digests
        with units() as unit:
            _site(unit, "NYC1", "America/New_York")
        clock.instant = NYC1_AT + timedelta(minutes=5)
        assert _arrived(smtp_receiver, 4)
        wall.sleep(1.0)  # a few more polls: nothing is queued twice
    finally:
        jobs.stop()
    received = smtp_receiver.deliveries.counts()
    assert sorted(key.split(".")[:2] for key in received) == [
        ["nurse_digest", "NYC1"],
        ["nurse_digest", "ZJU1"],
        ["pharmacy_digest", "NYC1"],
        ["pharmacy_digest", "ZJU1"],
    ]
    assert set(received.values()) == {1}


def _arrived(receiver, count, seconds=20.0):
    deadline = wall.monotonic() + seconds
    while wall.monotonic() < deadline:
        if len(receiver.deliveries.keys) >= count:
            return True
        wall.sleep(0.05)
    return False
