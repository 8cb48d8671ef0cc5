"""The channels against the real receivers: kept-open connections that the receiver closed are
reopened, and a message that is not plain ASCII is encoded properly."""

import time
import warnings
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from reminder_testkit import SECRET, free_port

from scheduler.errors import InputError
from scheduler.reminders.channels import Message, PermanentFailure, TemporaryFailure
from scheduler.reminders.channels.smtp import SmtpChannel
from scheduler.reminders.channels.webhook import WebhookChannel

DUE = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


DOSE = "S-001, 2026-03-03: take your 12 mg dose due at 08:00."


def _message(key, body=DOSE, to="+8613800000001"):
    return Message(
        idempotency_key=key,
        kind="dose",
        to=to,
        title="Dose reminder 2026-03-03",
        body=body,
        due_at=DUE,
        subject_code="S-001",
    )


def test_the_webhook_reopens_a_connection_the_receiver_closed(webhook_receiver):
    webhook_receiver.server.RequestHandlerClass.timeout = 0.2  # idle keep-alive closed quickly
    channel = WebhookChannel(url=webhook_receiver.url, secret=SECRET)
    try:
        channel.send(_message("k1"))
        deadline = time.monotonic() + 10  # until the receiver has dropped the idle connection
        while webhook_receiver.connections_closed < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert webhook_receiver.connections_closed == 1
        channel.send(_message("k2"))
    finally:
        channel.close()
    assert webhook_receiver.deliveries.counts() == {"k1": 1, "k2": 1}


def test_a_refused_signature_is_retried_a_rejected_request_is_not(webhook_receiver):
    channel = WebhookChannel(url=webhook_receiver.url, secret="x" * 16 + "-not-the-secret")
    with pytest.raises(TemporaryFailure, match="401"):
        channel.send(_message("k3"))
    channel.close()
    webhook_receiver.reject_with = 400
    channel = WebhookChannel(url=webhook_receiver.url, secret=SECRET)
    with pytest.raises(PermanentFailure, match="400"):
        channel.send(_message("k4"))
    channel.close()


@pytest.mark.parametrize("url", ["ftp://example.org/hook", "http://", "http://host:port/"])
def test_a_webhook_url_that_is_not_http_is_refused_naming_the_setting(url):
    with pytest.raises(InputError) as error:
        WebhookChannel(url=url, secret=SECRET)
    assert error.value.field == "webhook_url"


def test_an_email_in_plain_ascii_and_one_that_is_not_both_arrive_intact(smtp_receiver):
    channel = SmtpChannel(host="127.0.0.1", port=smtp_receiver.port, sender="r@dosing.invalid")
    bring = "S-001, 2026-03-15: clinic visit tomorrow (C1D15). Please bring: 用药日记."
    try:
        channel.send(_message("plain", to="p1@example.org"))
        channel.send(_message("unicode", body=bring, to="p1@example.org"))
    finally:
        channel.close()
    bodies = smtp_receiver.deliveries.bodies
    assert bodies["plain"].strip() == DOSE
    assert bodies["unicode"].strip() == bring


def test_the_plain_email_is_a_well_formed_message():
    channel = SmtpChannel(host="127.0.0.1", port=1, sender="r@dosing.invalid")
    raw = channel._plain(_message("k.1", to="p1@example.org"))
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["Message-ID"] == "<k.1@dosing.invalid>"
    assert parsed["X-Dosing-Idempotency-Key"] == "k.1"
    assert parsed["To"] == "p1@example.org" and parsed["Subject"] == "Dose reminder 2026-03-03"
    assert parsed.get_content().strip() == ("S-001, 2026-03-03: take your 12 mg dose due at 08:00.")
    assert b"\r\n\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert channel._plain(_message("k.2", body="用药", to="p1@example.org")) is None
    assert channel._plain(_message("k.3", to="p1@example.org\r\nBcc: x@y.z")) is None


class _Accepting:
    def __init__(self):
        self.keys = []

    async def handle_DATA(self, server, session, envelope):
        self.keys.append(message_from_bytes(envelope.content)["X-Dosing-Idempotency-Key"])
        return "250 accepted"


@pytest.fixture
def smtp_with_login():
    """An SMTP server that requires a login (over plain text, on loopback only)."""

    def authenticator(server, session, envelope, mechanism, auth_data):
        login, password = (
            v.decode() if isinstance(v, bytes) else v for v in (auth_data.login, auth_data.password)
        )
        ok = (login, password) == ("reminders", "right-password")
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    handler = _Accepting()
    port = free_port()
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],  # smtplib's LOGIN and aiosmtpd's disagree
    )
    controller.start()
    yield port, handler
    controller.stop()


def test_the_smtp_login_settings_are_used_and_a_wrong_password_is_retried(smtp_with_login):
    port, handler = smtp_with_login
    common = {"host": "127.0.0.1", "port": port, "sender": "r@dosing.invalid", "timeout": 5}
    wrong = SmtpChannel(**common, user="reminders", password="wrong-password")
    with pytest.raises(TemporaryFailure, match=r"login refused .*DOSING_SMTP_PASSWORD"):
        wrong.send(_message("k.wrong", to="p1@example.org"))
    wrong.close()
    right = SmtpChannel(**common, user="reminders", password="right-password")
    right.send(_message("k.right", to="p1@example.org"))
    right.close()
    assert handler.keys == ["k.right"]


def test_starttls_asked_of_a_server_without_it_sends_nothing_in_clear(smtp_receiver):
    channel = SmtpChannel(
        host="127.0.0.1", port=smtp_receiver.port, sender="r@dosing.invalid", tls="starttls"
    )
    with pytest.raises(TemporaryFailure, match="STARTTLS"):
        channel.send(_message("k.tls", to="p1@example.org"))
    channel.close()
    assert smtp_receiver.deliveries.keys == []


def test_an_unknown_tls_mode_is_refused_naming_the_setting():
    with pytest.raises(InputError) as error:
        SmtpChannel(host="127.0.0.1", port=25, sender="r@dosing.invalid", tls="ssl")
    assert error.value.field == "smtp_tls"
