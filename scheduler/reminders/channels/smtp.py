"""Email over SMTP with the standard library: one connection kept open across messages.

The Message-ID is made from the idempotency key (``<key@sender-domain>``, also sent as
``X-Dosing-Idempotency-Key``), so a repeated send carries the same Message-ID. SMTP itself does
not drop a repeated Message-ID: a relay or mailbox may (some mailbox servers and mail clients
suppress or merge a Message-ID they already hold, when set up to), but the one duplicate a
worker crash can cause (docs/reminders.md) may still reach the patient's inbox.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

from scheduler.clock import Clock, SystemClock
from scheduler.errors import InputError
from scheduler.reminders.channels import (
    ChannelDescriptor,
    Message,
    PermanentFailure,
    TemporaryFailure,
)
from scheduler.settings import Settings

TLS_MODES = ("none", "starttls", "tls")
_SIMPLE_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")
"""An address SMTP takes as it is, between angle brackets."""
_MAX_PLAIN_LINE = 900
"""SMTP allows 998 octets a line; a longer line is left to the email package to encode."""


def _mail_transaction(connection: smtplib.SMTP, sender: str, to: str, raw: bytes) -> None:
    """``sendmail`` for one recipient whose address needs no quoting, with the same replies
    and errors: ``sendmail`` parses both addresses with the email package on every message,
    half of what a send costs the worker."""
    connection.ehlo_or_helo_if_needed()
    size = f" SIZE={len(raw)}" if connection.does_esmtp and connection.has_extn("size") else ""
    code, reply = connection.docmd("MAIL", f"FROM:<{sender}>{size}")
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = connection.docmd("RCPT", f"TO:<{to}>")
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
    code, reply = connection.data(raw)
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


class SmtpChannel:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        tls: str = "none",
        user: str = "",
        password: str = "",
        timeout: float = 30.0,
        ca_file: str = "",
        clock: Clock | None = None,
    ) -> None:
        if tls not in TLS_MODES:
            raise InputError("smtp_tls", f"expected one of {', '.join(TLS_MODES)}, got {tls!r}")
        if "@" not in sender:
            raise InputError("smtp_from", f"{sender!r} is not an email address")
        self._host, self._port, self._tls = host, port, tls
        self._user, self._password = user, password
        self._sender, self._timeout = sender, timeout
        self._domain = sender.rsplit("@", 1)[1]
        self._connection: smtplib.SMTP | None = None
        self._clock = clock or SystemClock()
        self._context = ssl.create_default_context()
        if ca_file:
            # In addition to the system store: a site's relay often has an internal CA's
            # certificate. Loaded here so a wrong path is a settings error, not a send error.
            try:
                self._context.load_verify_locations(cafile=ca_file)
            except OSError as exc:
                raise InputError("smtp_ca_file", f"cannot load {ca_file!r}: {exc}") from exc

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        connection: smtplib.SMTP
        if self._tls == "tls":
            connection = smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=self._context
            )
        else:
            connection = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            if self._tls == "starttls":
                connection.starttls(context=self._context)  # refused by a server without STARTTLS
            if self._user:
                connection.login(self._user, self._password)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _email(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = message.to
        email["Subject"] = message.title
        email["Date"] = format_datetime(self._clock.now())
        email["Message-ID"] = f"<{message.idempotency_key}@{self._domain}>"
        email["X-Dosing-Idempotency-Key"] = message.idempotency_key
        email.set_content(message.body)
        return email

    def _plain(self, message: Message) -> bytes | None:
        """The message as bytes, written directly when it is plain short-lined ASCII (every
        reminder the plan makes): the email package would spend most of a send building it.
        None when it needs encoding or folding; then the email package builds it."""
        fields = (self._sender, message.to, message.title, message.idempotency_key)
        if any(not f.isascii() or "\r" in f or "\n" in f or len(f) > 200 for f in fields):
            return None
        lines = message.body.split("\n")
        if not message.body.isascii() or "\r" in message.body:
            return None
        if any(len(line) > _MAX_PLAIN_LINE for line in lines):
            return None
        headers = (
            f"From: {self._sender}\r\n"
            f"To: {message.to}\r\n"
            f"Subject: {message.title}\r\n"
            f"Date: {format_datetime(self._clock.now())}\r\n"
            f"Message-ID: <{message.idempotency_key}@{self._domain}>\r\n"
            f"X-Dosing-Idempotency-Key: {message.idempotency_key}\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: text/plain; charset="us-ascii"\r\n'
            "Content-Transfer-Encoding: 7bit\r\n\r\n"
        )
        return (headers + "\r\n".join(lines) + "\r\n").encode("ascii")

    def _transmit(self, message: Message) -> None:
        raw = self._plain(message)
        connection = self._connect()
        if raw is None:
            connection.send_message(self._email(message))
        elif _SIMPLE_ADDRESS.fullmatch(self._sender) and _SIMPLE_ADDRESS.fullmatch(message.to):
            _mail_transaction(connection, self._sender, message.to, raw)
        else:
            connection.sendmail(self._sender, [message.to], raw)

    def send(self, message: Message) -> None:
        for attempt in (1, 2):
            try:
                self._transmit(message)
                return
            except smtplib.SMTPServerDisconnected as exc:
                # A kept-open connection the server has since closed: reconnect once.
                self._connection = None
                if attempt == 2:
                    raise TemporaryFailure(f"SMTP server disconnected: {exc}") from exc
            except smtplib.SMTPAuthenticationError as exc:
                # The settings are wrong, not the message: retried until someone fixes them.
                raise TemporaryFailure(
                    f"SMTP login refused ({exc.smtp_code}): check DOSING_SMTP_USER and "
                    "DOSING_SMTP_PASSWORD"
                ) from exc
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                self._reset()
                if all(code >= 500 for code in codes):
                    raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
                raise TemporaryFailure(f"recipient deferred: {exc.recipients}") from exc
            except smtplib.SMTPResponseException as exc:
                self._reset()
                reply = exc.smtp_error
                if isinstance(reply, bytes):
                    reply = reply.decode(errors="replace")
                text = f"SMTP {exc.smtp_code} {reply}"
                if exc.smtp_code >= 500:
                    raise PermanentFailure(text) from exc
                raise TemporaryFailure(text) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                raise TemporaryFailure(f"SMTP {type(exc).__name__}: {exc}") from exc

    def _reset(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


def _open(settings: Settings, clock: Clock) -> SmtpChannel:
    return SmtpChannel(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        tls=settings.smtp_tls,
        user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value(),
        timeout=settings.smtp_timeout_seconds,
        ca_file=settings.smtp_ca_file,
        clock=clock,
    )


DESCRIPTOR = ChannelDescriptor(
    name="email",
    label="email",
    # No control characters: PostgreSQL refuses NUL in text, and none belongs in an address.
    address_pattern=r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+",
    address_help="is not an email address",
    max_address_length=320,
    open=_open,
)
