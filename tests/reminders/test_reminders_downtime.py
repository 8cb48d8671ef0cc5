"""After downtime: reminders derived from real plans (enrolled and opted in through the services)
are sent if still within their grace, otherwise marked expired; and reminder instants are right
on the days either side of both DST changes. On SQLite and PostgreSQL.

S-001 starts anlotinib (grace 12 h, the protocol's late_dose_hours) on 2 March 2026 in Shanghai,
doses at 08:00 local (00:00 UTC), and is enrolled at 12:00 local that day. A "restart" is what a
process does when it starts: the refresh of every site, the digests, and a dispatch.
"""

import time as wall
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.kernel.protocol_versions import load_shipped_protocols
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.unit import unit_of_work
from scheduler.models import Reminder, Subject
from scheduler.reminders.jobs import ReminderJobs, build_digests
from scheduler.reminders.outbox import set_preference
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll

ENROLLED = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


def _unit(settings, at):
    return unit_of_work(get_engine(settings.database_url), "nurse", FixedClock(at), settings)


def _enroll(settings, code, at=ENROLLED, **anchors):
    anchors = {"c1d1": "2026-03-02", "surgery": "2026-02-01", "dose_time": "08:00", **anchors}
    with _unit(settings, at) as unit:
        load_shipped_protocols(unit)
        ensure_default_site(unit, settings)
    with _unit(settings, at) as unit:
        enroll(unit, code, site_code="ZJU1", **anchors)
        set_preference(unit, code, opted_in=True, channel="email", address=f"{code}@example.org")


def _rows(settings, kind="dose"):
    """(subject, item) -> row."""
    with _unit(settings, ENROLLED) as unit:
        rows = unit.session.exec(
            select(Subject.code, Reminder)
            .join(Subject, Subject.id == Reminder.subject_id)
            .where(Reminder.kind == kind)
        ).all()
    return {(code, row.item_key): row for code, row in rows}


def _restart(settings, at):
    """The runs a process makes when it starts, one after the other."""
    jobs = ReminderJobs(get_engine(settings.database_url), settings, FixedClock(at))
    try:
        jobs.refresh()
        jobs.digests()
        jobs.dispatch()
    finally:
        jobs.stop()


def _wait_for(condition, seconds=20.0):
    deadline = wall.monotonic() + seconds
    while wall.monotonic() < deadline:
        if condition():
            return True
        wall.sleep(0.05)
    return False


def test_after_a_restart_a_dose_reminder_4_hours_late_is_sent_one_14_hours_late_expires(
    reminder_settings, smtp_receiver
):
    """The scheduler itself is started after each outage: its start-up runs decide."""
    settings = reminder_settings.model_copy(update={"reminder_poll_seconds": 0.2})
    _enroll(settings, "S-001")
    rows = _rows(settings)
    c1d2, c1d3 = rows[("S-001", "C1D2")], rows[("S-001", "C1D3")]
    assert (c1d2.due_at, c1d3.due_at) == (_utc(2026, 3, 3, 0, 0), _utc(2026, 3, 4, 0, 0))

    def status(item):
        return _rows(settings)[("S-001", item)].status

    for at, item, outcome in (
        (_utc(2026, 3, 3, 4, 0), "C1D2", "sent"),  # down since enrolment: C1D2 is 4 h late
        (_utc(2026, 3, 4, 14, 0), "C1D3", "expired"),  # down again: C1D3 is 14 h late
    ):
        jobs = ReminderJobs(get_engine(settings.database_url), settings, FixedClock(at))
        jobs.start()
        try:
            assert _wait_for(lambda: status(item) == outcome), status(item)  # noqa: B023
        finally:
            jobs.stop()
    assert smtp_receiver.deliveries.counts() == {c1d2.idempotency_key: 1}
    assert status("C1D1") == "expired"  # 28 h late at the first restart


def test_the_refresh_at_start_up_marks_a_reminder_past_its_grace_expired_not_cancelled(
    reminder_settings,
):
    """Whichever start-up run comes first, a reminder nobody sent in time reads "expired"."""
    _enroll(reminder_settings, "S-001")
    jobs = ReminderJobs(
        get_engine(reminder_settings.database_url),
        reminder_settings,
        FixedClock(_utc(2026, 3, 3, 4)),
    )
    try:
        jobs.refresh()
    finally:
        jobs.stop()
    rows = _rows(reminder_settings)
    assert rows[("S-001", "C1D1")].status == "expired"
    assert rows[("S-001", "C1D2")].status == "pending"


def test_the_protocol_decides_the_dose_grace(reminder_settings, smtp_receiver):
    """Capecitabine's late_dose_hours is 6: a reminder 4 h late is sent, 7 h late expires.
    Twice daily: C1D1S1 at 08:00 local (00:00 UTC), C1D1S2 at 20:00 (12:00 UTC)."""
    _enroll(reminder_settings, "BID-1", protocol_id="EXAMPLE-CAPE-BID", c1d1="2026-03-03")
    rows = _rows(reminder_settings)
    assert rows[("BID-1", "C1D1S1")].due_at == _utc(2026, 3, 3, 0, 0)
    assert rows[("BID-1", "C1D1S1")].expires_at == _utc(2026, 3, 3, 6, 0)
    _restart(reminder_settings, _utc(2026, 3, 3, 4, 0))  # C1D1S1 is 4 h late
    _restart(reminder_settings, _utc(2026, 3, 3, 19, 0))  # C1D1S2 is 7 h late
    rows = _rows(reminder_settings)
    statuses = {item: row.status for (_, item), row in rows.items()}
    assert (statuses["C1D1S1"], statuses["C1D1S2"], statuses["C1D2S1"]) == (
        "sent",
        "expired",
        "pending",
    )
    assert smtp_receiver.deliveries.counts() == {rows[("BID-1", "C1D1S1")].idempotency_key: 1}


@pytest.mark.parametrize(("late_hours", "outcome"), [(2, "sent"), (4, "expired")])
def test_the_dose_grace_setting_shortens_the_protocols(
    db_url, smtp_receiver, monkeypatch, late_hours, outcome
):
    monkeypatch.setenv("DOSING_REMINDER_DOSE_GRACE_HOURS", "3")
    settings = Settings(database_url=db_url, smtp_port=smtp_receiver.port)
    assert settings.reminder_dose_grace_hours == 3
    _enroll(settings, "S-001")
    assert _rows(settings)[("S-001", "C1D2")].expires_at == _utc(2026, 3, 3, 3, 0)
    _restart(settings, _utc(2026, 3, 3, late_hours, 0))
    assert _rows(settings)[("S-001", "C1D2")].status == outcome


@pytest.mark.parametrize(
    ("grace", "late_hours", "outcome"),
    [(None, 11, "sent"), (None, 13, "expired"), ("2", 1, "sent"), ("2", 3, "expired")],
)
def test_a_visit_reminder_is_sent_within_its_grace_after_a_restart(
    db_url, smtp_receiver, monkeypatch, grace, late_hours, outcome
):
    """The C1D15 reminder is due at 18:00 local on 15 March (10:00 UTC); its grace is 12 h, or
    DOSING_REMINDER_VISIT_GRACE_HOURS."""
    if grace is not None:
        monkeypatch.setenv("DOSING_REMINDER_VISIT_GRACE_HOURS", grace)
    settings = Settings(database_url=db_url, smtp_port=smtp_receiver.port)
    _enroll(settings, "S-001")
    row = _rows(settings, "visit")[("S-001", "C1D15")]
    assert row.due_at == _utc(2026, 3, 15, 10, 0)
    _restart(settings, row.due_at + timedelta(hours=late_hours))
    assert _rows(settings, "visit")[("S-001", "C1D15")].status == outcome
    sent = outcome == "sent"
    assert smtp_receiver.deliveries.counts().get(row.idempotency_key, 0) == sent


def test_digests_after_a_restart_are_sent_within_their_grace_and_expire_after(
    reminder_settings, smtp_receiver
):
    """ZJU1's digests are due at 07:30 in Shanghai (23:30 UTC the day before), grace 4 h."""
    settings = reminder_settings.model_copy(
        update={
            "nurse_digest_to": {"ZJU1": ["ward3@example.org"]},
            "pharmacy_digest_to": {"ZJU1": ["pharmacy@example.org"]},
        }
    )
    _enroll(settings, "S-001")
    _restart(settings, _utc(2026, 3, 16, 1, 0))  # 09:00 on 16 March: 1.5 h late
    _restart(settings, _utc(2026, 3, 17, 4, 0))  # 12:00 on 17 March: 4.5 h late
    build_digests(
        get_engine(settings.database_url), settings, FixedClock(_utc(2026, 3, 17, 23, 30))
    )
    _restart(settings, _utc(2026, 3, 18, 4, 0))  # queued on time for the 18th, never sent
    with _unit(settings, ENROLLED) as unit:
        digests = unit.session.exec(
            select(Reminder)
            .where(Reminder.subject_id.is_(None))
            .order_by(Reminder.due_at, Reminder.kind)
        ).all()
    assert [(r.due_at, r.kind, r.status) for r in digests] == [
        (_utc(2026, 3, 15, 23, 30), "nurse_digest", "sent"),
        (_utc(2026, 3, 15, 23, 30), "pharmacy_digest", "sent"),
        (_utc(2026, 3, 17, 23, 30), "nurse_digest", "expired"),
        (_utc(2026, 3, 17, 23, 30), "pharmacy_digest", "expired"),
    ]
    assert sorted(smtp_receiver.deliveries.counts().values()) == [1, 1]


DST_CASES = {
    # zone, C1D1, enrolled at, the UTC instants of 08:00 local on C1D6, C1D7 (the change), C1D8
    "new-york-spring": (
        "America/New_York",
        "2026-03-02",
        [_utc(2026, 3, 7, 13), _utc(2026, 3, 8, 12), _utc(2026, 3, 9, 12)],
    ),
    "new-york-autumn": (
        "America/New_York",
        "2026-10-26",
        [_utc(2026, 10, 31, 12), _utc(2026, 11, 1, 13), _utc(2026, 11, 2, 13)],
    ),
    "berlin-spring": (
        "Europe/Berlin",
        "2026-03-23",
        [_utc(2026, 3, 28, 7), _utc(2026, 3, 29, 6), _utc(2026, 3, 30, 6)],
    ),
    "berlin-autumn": (
        "Europe/Berlin",
        "2026-10-19",
        [_utc(2026, 10, 24, 6), _utc(2026, 10, 25, 7), _utc(2026, 10, 26, 7)],
    ),
}


@pytest.mark.parametrize("case", DST_CASES)
def test_the_0800_reminder_comes_at_0800_local_either_side_of_a_dst_change(
    reminder_settings, smtp_receiver, case
):
    zone, c1d1, expected = DST_CASES[case]
    first = date.fromisoformat(c1d1)
    enrolled = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=1)
    surgery = (first - timedelta(days=35)).isoformat()  # within the protocol's 28-56 days
    _enroll(reminder_settings, "TZ-1", at=enrolled, c1d1=c1d1, surgery=surgery, time_zone=zone)
    rows = _rows(reminder_settings)
    assert [rows[("TZ-1", item)].due_at for item in ("C1D6", "C1D7", "C1D8")] == expected
    change_day = rows[("TZ-1", "C1D7")]
    _restart(reminder_settings, change_day.due_at - timedelta(minutes=1))
    assert change_day.idempotency_key not in smtp_receiver.deliveries.keys
    _restart(reminder_settings, change_day.due_at)
    assert smtp_receiver.deliveries.counts()[change_day.idempotency_key] == 1
