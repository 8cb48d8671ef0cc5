"""The email channel against aiosmtpd speaking real TLS on loopback.

The server certificates come from a private CA (trustme) that the channel trusts only through
``DOSING_SMTP_CA_FILE``, the way a site trusts its relay's internal CA; a certificate it cannot
verify must stop the message before anything is sent, and be retried: it is a settings or relay
mistake, not something wrong with the message.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from reminder_testkit import free_port

from scheduler.clock import FixedClock
from scheduler.errors import InputError
from scheduler.reminders.channels import Message, TemporaryFailure
from scheduler.reminders.channels.registry import factories
from scheduler.reminders.channels.smtp import SmtpChannel
from scheduler.settings import Settings

SENDER = "r@dosing.invalid"
TLS_VERSIONS = {"TLSv1.2", "TLSv1.3"}


def _message(key: str) -> Message:
    return Message(
        idempotency_key=key,
        kind="dose",
        to="p1@example.org",
        title="Dose reminder 2026-03-03",
        body="S-001, 2026-03-03: take your 12 mg dose due at 08:00.",
        due_at=datetime(2026, 3, 3, tzinfo=UTC),
        subject_code="S-001",
    )


@pytest.fixture(scope="module")
def relay_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def relay_ca_file(relay_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tls") / "relay-ca.pem"
    relay_ca.cert_pem.write_to_path(str(path))
    return str(path)


def _server_context(ca: trustme.CA, hostname: str = "127.0.0.1") -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(hostname).configure_cert(context)
    return context


class _Recording:
    """Keeps each delivered key with the TLS version of the connection that carried it, so a
    message that came in clear text shows up as None instead of passing unnoticed."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str | None]] = []
        self.logins: list[tuple[str, bool]] = []
        """Accepted logins, with whether the session had completed STARTTLS."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert server.transport is not None and isinstance(envelope.content, bytes)
        tls = server.transport.get_extra_info("ssl_object")
        key = message_from_bytes(envelope.content)["X-Dosing-Idempotency-Key"]
        self.received.append((key, tls.version() if tls is not None else None))
        return "250 accepted"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        ok = (login, password) == ("reminders", "right-password")
        if ok:
            self.logins.append((login, session.ssl is not None))
        return AuthResult(success=ok, handled=False)


@contextmanager
def _serving(handler: _Recording, **options: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_starttls_from_the_settings_delivers_over_an_encrypted_session(
    relay_ca: trustme.CA, relay_ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = _Recording()
    # require_starttls: the server answers 530 to MAIL on a connection still in clear text.
    with _serving(handler, tls_context=_server_context(relay_ca), require_starttls=True) as port:
        monkeypatch.setenv("DOSING_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("DOSING_SMTP_PORT", str(port))
        monkeypatch.setenv("DOSING_SMTP_TLS", "starttls")
        monkeypatch.setenv("DOSING_SMTP_CA_FILE", relay_ca_file)
        clock = FixedClock(datetime(2026, 3, 2, 23, 0, tzinfo=UTC))
        channel = factories(Settings(), clock)["email"]()
        try:
            channel.send(_message("k.starttls.1"))
            channel.send(_message("k.starttls.2"))  # on the kept-open encrypted connection
        finally:
            channel.close()
    assert [key for key, _ in handler.received] == ["k.starttls.1", "k.starttls.2"]
    assert {version for _, version in handler.received} <= TLS_VERSIONS


def test_the_login_is_sent_only_after_starttls(relay_ca: trustme.CA, relay_ca_file: str) -> None:
    handler = _Recording()
    with _serving(
        handler,
        tls_context=_server_context(relay_ca),
        require_starttls=True,
        authenticator=handler.authenticate,
        auth_required=True,
        auth_require_tls=True,  # AUTH is not even offered before STARTTLS
        auth_exclude_mechanism=["LOGIN"],  # smtplib's LOGIN and aiosmtpd's disagree
    ) as port:
        channel = SmtpChannel(
            host="127.0.0.1",
            port=port,
            sender=SENDER,
            tls="starttls",
            user="reminders",
            password="right-password",
            timeout=5,
            ca_file=relay_ca_file,
        )
        try:
            channel.send(_message("k.login"))
        finally:
            channel.close()
    assert handler.logins == [("reminders", True)]
    assert [key for key, _ in handler.received] == ["k.login"]
    assert handler.received[0][1] in TLS_VERSIONS


def test_implicit_tls_delivers(relay_ca: trustme.CA, relay_ca_file: str) -> None:
    handler = _Recording()
    with _serving(handler, ssl_context=_server_context(relay_ca)) as port:
        channel = SmtpChannel(
            host="127.0.0.1", port=port, sender=SENDER, tls="tls", timeout=5, ca_file=relay_ca_file
        )
        try:
            channel.send(_message("k.smtps"))
        finally:
            channel.close()
    assert [key for key, _ in handler.received] == ["k.smtps"]
    assert handler.received[0][1] in TLS_VERSIONS


@pytest.mark.parametrize("tls", ["starttls", "tls"])
@pytest.mark.parametrize(
    ("issuer", "hostname", "trust_relay_ca", "reason"),
    [
        pytest.param("other", "127.0.0.1", True, "unable to get local issuer", id="other-ca"),
        pytest.param("relay", "mail.example.org", True, "IP address mismatch", id="wrong-host"),
        pytest.param("relay", "127.0.0.1", False, "unable to get local issuer", id="no-ca-file"),
    ],
)
def test_a_certificate_the_channel_cannot_verify_stops_the_message_and_is_retried(
    relay_ca: trustme.CA,
    relay_ca_file: str,
    tls: str,
    issuer: str,
    hostname: str,
    trust_relay_ca: bool,
    reason: str,
) -> None:
    ca = relay_ca if issuer == "relay" else trustme.CA()
    context = _server_context(ca, hostname)
    options: dict[str, Any] = (
        {"tls_context": context, "require_starttls": True}
        if tls == "starttls"
        else {"ssl_context": context}
    )
    handler = _Recording()
    with _serving(handler, **options) as port:
        channel = SmtpChannel(
            host="127.0.0.1",
            port=port,
            sender=SENDER,
            tls=tls,
            timeout=5,
            ca_file=relay_ca_file if trust_relay_ca else "",
        )
        try:
            with pytest.raises(TemporaryFailure, match="CERTIFICATE_VERIFY_FAILED") as failure:
                channel.send(_message("k.untrusted"))
        finally:
            channel.close()
    assert reason in str(failure.value)
    assert isinstance(failure.value.__cause__, ssl.SSLCertVerificationError)
    assert handler.received == []


@pytest.mark.parametrize("content", [None, "not a certificate\n"], ids=["missing", "not-pem"])
def test_a_ca_file_that_cannot_be_loaded_is_refused_naming_the_setting(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "relay-ca.pem"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError) as error:
        SmtpChannel(host="127.0.0.1", port=25, sender=SENDER, tls="tls", ca_file=str(path))
    assert error.value.field == "smtp_ca_file"
    assert str(path) in error.value.reason
