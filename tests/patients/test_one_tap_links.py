"""Dose reminders carry a one-tap "I took it" link: signed with the server's secret, for that
one dose only, expiring when the dose can no longer be taken (07:00 + ``late_dose_hours`` 12 =
19:00 in Shanghai); opening it never reports (message previews open links), tapping its button
reports the dose taken now, once. On SQLite and PostgreSQL; C1D1 2026-03-02."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import select

from scheduler.app.web import create_app
from scheduler.db import get_engine
from scheduler.kernel.unit import unit_of_work
from scheduler.models import PatientReport, Reminder
from scheduler.patients.links import issue_link, revoke_link
from scheduler.reminders.outbox import set_preference
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll

SECRET = "a-test-secret-of-at-least-32-characters!!"
_LINK = re.compile(r"https?://\S+/tap/(\S+)")


@dataclass
class MovableClock:
    instant: datetime

    def now(self) -> datetime:
        return self.instant


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def settings_with_secret(db_url):
    return Settings(
        database_url=db_url,
        user="web",
        patient_link_secret=SECRET,
        public_base_url="https://study.example",
    )


@pytest.fixture
def reminded(units, db_url, settings_with_secret):
    """P-1 opted in to reminders by SMS, with a private page link; the outbox derived by a unit
    running with the secret (as the app and the worker do)."""
    clock = MovableClock(_shanghai(2, 6))
    with unit_of_work(get_engine(db_url), "nurse", clock, settings_with_secret) as unit:
        enroll(
            unit,
            "P-1",
            c1d1="2026-03-02",
            surgery="2026-01-20",
            dose_time="07:00",
            site_code="ZJU1",
            language="zh_CN",
        )
        set_preference(unit, "P-1", opted_in=True, channel="sms", address="+8613800000000")
        issue_link(unit, settings_with_secret, "P-1")
    return clock


def _bodies(db_url):
    with unit_of_work(get_engine(db_url), "reader") as unit:
        rows = unit.session.exec(
            select(Reminder).where(Reminder.kind == "dose").order_by(Reminder.due_at)
        ).all()
        return {r.item_key: (r.body, r.expires_at) for r in rows}


def test_a_dose_reminder_carries_its_own_link_expiring_with_the_dose(units, db_url, reminded):
    bodies = _bodies(db_url)
    body, expires = bodies["C1D1"]
    assert body.startswith(
        "P-1，3月2日 星期一：请在07:00服用12 mg。服药后请点击：https://study.example/tap/"
    )
    assert expires == _shanghai(2, 19)
    links = {key: _LINK.search(b).group(1) for key, (b, _) in bodies.items()}
    assert len(set(links.values())) == len(links)  # one link per dose
    assert links["C1D1"].split(".")[1] == "C1D1"


def test_without_a_private_page_or_a_secret_reminders_carry_no_link(units, db_url, reminded):
    with unit_of_work(get_engine(db_url), "nurse", reminded) as unit:
        revoke_link(unit, "P-1", reason="patient declined the page")
    assert not any("/tap/" in body for body, _ in _bodies(db_url).values())


def _client(db_url, settings, clock):
    return TestClient(create_app(settings, clock))


def test_the_link_reports_that_one_dose_once_and_a_preview_reports_nothing(
    units, db_url, reminded, settings_with_secret
):
    signed = _LINK.search(_bodies(db_url)["C1D1"][0]).group(1)
    reminded.instant = _shanghai(2, 7, 40)
    client = _client(db_url, settings_with_secret, reminded)
    opened = client.get(f"/tap/{signed}")
    assert opened.status_code == 200 and 'id="tap-taken"' in opened.text
    assert "您3月2日 星期一的药，应在07:00服用" in opened.text
    assert opened.headers["cache-control"] == "no-store"
    with units() as unit:
        assert unit.session.exec(select(PatientReport)).all() == []
    tapped = client.post(f"/tap/{signed}")
    assert tapped.status_code == 200 and "已保存：您3月2日 星期一在07:40服药。" in tapped.text
    again = client.post(f"/tap/{signed}")
    assert "您已报告过3月2日 星期一的服药情况：已于07:40服药。" in again.text
    with units() as unit:
        [row] = unit.session.exec(select(PatientReport)).all()
    assert (row.report_date.isoformat(), row.via, row.taken) == ("2026-03-02", "one_tap", True)


def test_a_changed_link_is_unknown_and_a_late_one_has_expired(
    units, db_url, reminded, settings_with_secret
):
    signed = _LINK.search(_bodies(db_url)["C1D1"][0]).group(1)
    subject, key, expiry, signature = signed.split(".")
    client = _client(db_url, settings_with_secret, reminded)
    forged = f"{subject}.C1D2.{expiry}.{signature}"  # another dose under the same signature
    assert client.get(f"/tap/{forged}").status_code == 404
    longer = f"{subject}.{key}.{int(expiry) + 3600}.{signature}"
    assert client.post(f"/tap/{longer}").status_code == 404
    other_secret = settings_with_secret.model_copy(
        update={"patient_link_secret": SecretStr("x" * 40)}
    )
    assert _client(db_url, other_secret, reminded).get(f"/tap/{signed}").status_code == 404
    reminded.instant = _shanghai(2, 19)
    late = client.post(f"/tap/{signed}")
    assert late.status_code == 410 and "此链接已过期" in late.text
    with units() as unit:
        assert unit.session.exec(select(PatientReport)).all() == []


def test_a_withdrawn_page_withdraws_the_links_too(units, db_url, reminded, settings_with_secret):
    signed = _LINK.search(_bodies(db_url)["C1D1"][0]).group(1)
    with unit_of_work(get_engine(db_url), "nurse", reminded) as unit:
        revoke_link(unit, "P-1", reason="phone lost")
    assert _client(db_url, settings_with_secret, reminded).post(f"/tap/{signed}").status_code == 410


def test_a_shorter_reminder_grace_does_not_shorten_the_link(units, db_url, settings_with_secret):
    capped = settings_with_secret.model_copy(update={"reminder_dose_grace_hours": 2.0})
    with unit_of_work(get_engine(db_url), "nurse", MovableClock(_shanghai(2, 6)), capped) as unit:
        enroll(
            unit,
            "P-2",
            c1d1="2026-03-02",
            surgery="2026-01-20",
            dose_time="07:00",
            site_code="ZJU1",
        )
        set_preference(unit, "P-2", opted_in=True, channel="sms", address="+8613800000001")
        issue_link(unit, capped, "P-2")
    body, expires = _bodies(db_url)["C1D1"]
    assert expires == _shanghai(2, 9)  # the reminder gives up at 09:00
    expiry = int(_LINK.search(body).group(1).split(".")[2])
    assert datetime.fromtimestamp(expiry, UTC) == _shanghai(
        2, 19
    )  # the dose can be taken until 19:00
