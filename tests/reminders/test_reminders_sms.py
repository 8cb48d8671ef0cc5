"""The SMS channel: a signed POST per text message to the gateway, the Chinese text intact,
the webhook's retry rules, and phone numbers checked with libphonenumber's data at opt-in;
end to end (on SQLite and PostgreSQL) a Chinese subject's reminder leaves by SMS in Chinese."""

from __future__ import annotations

import json

import pytest
from fixed_clock import FIXED_NOW
from reminder_testkit import SECRET, WebhookReceiver

from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.errors import InputError
from scheduler.reminders.channels import Message, PermanentFailure, TemporaryFailure
from scheduler.reminders.channels.registry import CHANNEL_NAMES, check_address, factories
from scheduler.reminders.channels.sms import SmsChannel
from scheduler.reminders.dispatch import Dispatcher
from scheduler.reminders.outbox import set_preference
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll

TEXT = "S-014，3月3日 星期二：请在 08:00 服用 12 mg。"


def _message(key: str = "dose.S-014.C1D2") -> Message:
    return Message(
        idempotency_key=key,
        kind="dose",
        to="+8613800138000",
        title="服药提醒 3月3日 星期二",
        body=TEXT,
        due_at=FIXED_NOW,
        subject_code="S-014",
    )


@pytest.fixture
def gateway():
    with WebhookReceiver() as receiver:
        yield receiver


def test_a_text_reaches_the_gateway_signed_with_only_what_an_sms_needs(gateway):
    channel = SmsChannel(url=gateway.url, secret=SECRET, sender="ZJU1 study")
    try:
        channel.send(_message())
    finally:
        channel.close()
    assert gateway.bad_signatures == 0
    assert gateway.deliveries.keys_by_body() == {TEXT: {"dose.S-014.C1D2"}}


def test_the_body_names_no_subject_and_carries_the_sender():
    channel = SmsChannel(url="http://127.0.0.1:9/sms", secret=SECRET, sender="ZJU1 study")
    payload = json.loads(channel._body(_message()))
    assert payload == {
        "idempotency_key": "dose.S-014.C1D2",
        "to": "+8613800138000",
        "from": "ZJU1 study",
        "text": TEXT,
    }


def test_a_gateway_error_is_retried_a_refused_request_is_not(gateway):
    channel = SmsChannel(url=gateway.url, secret=SECRET)
    gateway.deliveries.refuse_next = 1
    with pytest.raises(TemporaryFailure, match="sms HTTP 503"):
        channel.send(_message("k1"))
    gateway.reject_with = 422
    with pytest.raises(PermanentFailure, match="sms HTTP 422"):
        channel.send(_message("k2"))
    channel.close()
    wrong = SmsChannel(url=gateway.url, secret="x" * 16 + "-not-the-secret")
    with pytest.raises(TemporaryFailure, match="sms HTTP 401"):
        wrong.send(_message("k3"))
    wrong.close()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("13800138000", "E.164"),
        ("+86 138 0013 8000", "E.164"),
        ("+861380013800", "valid number"),
        ("+8612345", "valid number"),
    ],
)
def test_a_number_that_cannot_be_reached_is_refused_naming_the_address(address, reason):
    with pytest.raises(InputError) as error:
        check_address("sms", address)
    assert error.value.field == "address" and reason in str(error.value)


def test_a_mobile_number_in_e164_is_accepted_and_sms_is_offered():
    assert check_address("sms", " +8613800138000 ") == "+8613800138000"
    assert "sms" in CHANNEL_NAMES


def test_an_unconfigured_gateway_names_the_setting():
    settings = Settings(database_url="sqlite://", user="t")
    with pytest.raises(InputError) as error:
        factories(settings, None)["sms"]()  # type: ignore[arg-type]
    assert error.value.field == "sms_url"
    short = Settings(
        database_url="sqlite://", user="t", sms_url="http://127.0.0.1:9/", sms_secret="short"
    )
    with pytest.raises(InputError) as error:
        factories(short, None)["sms"]()  # type: ignore[arg-type]
    assert error.value.field == "sms_secret"


def test_a_chinese_patient_opted_in_by_sms_gets_todays_dose_in_chinese(units, db_url, gateway):
    """Enrolled on 2026-03-02 (C1D1, dose at 08:00 in Shanghai), opted in by SMS at noon:
    the day's dose reminder, still within its 12 hours, leaves at once, in Chinese."""
    with units() as unit:
        enroll(
            unit, "S-401", c1d1="2026-03-02", surgery="2026-01-26", site_code="ZJU1",
            language="zh_CN", dose_time="08:00",
        )  # fmt: skip
        set_preference(unit, "S-401", opted_in=True, channel="sms", address="+8613800138000")
    settings = Settings(database_url=db_url, user="tester", sms_url=gateway.url, sms_secret=SECRET)
    clock = FixedClock(FIXED_NOW)
    dispatcher = Dispatcher(get_engine(db_url), settings, clock, factories(settings, clock))
    try:
        assert dispatcher.run_once() == {"sent": 1}
    finally:
        dispatcher.close()
    (body,) = gateway.deliveries.keys_by_body()
    assert body == "S-401，3月2日 星期一：请在 08:00 服用 12 mg。"
