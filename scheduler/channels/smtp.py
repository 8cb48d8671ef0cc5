"""Email over SMTP with the standard library: one connection kept open across messages.

The idempotency key is the Message-ID, the header mail systems already use to drop duplicates.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

from scheduler.channels import Message, PermanentFailure, TemporaryFailure
from scheduler.clock import Clock, SystemClock
from scheduler.errors import InputError

TLS_MODES = ("none", "starttls", "tls")


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
        clock: Clock | None = None,
    ) -> None:
        if tls not in TLS_MODES:
            raise InputError("smtp_tls", f"expected one of {', '.join(TLS_MODES)}, got {tls!r}")
        if "@" not in sender:
            raise InputError("smtp_from", f"{sender!r} is not an email address")
        self._host, self._port, self._tls = host, port, tls
        self._user, self._password = user, password
        self._sender, self._timeout = sender, timeout
        self._connection: smtplib.SMTP | None = None
        self._clock = clock or SystemClock()

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if self._tls == "tls":
            connection = smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=context
            )
        else:
            connection = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
            if self._tls == "starttls":
                connection.starttls(context=context)
        if self._user:
            connection.login(self._user, self._password)
        self._connection = connection
        return connection

    def _email(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = message.to
        email["Subject"] = message.title
        email["Date"] = format_datetime(self._clock.now())
        domain = self._sender.rsplit("@", 1)[1]
        email["Message-ID"] = f"<{message.idempotency_key}@{domain}>"
        email["X-Dosing-Idempotency-Key"] = message.idempotency_key
        email.set_content(message.body)
        return email

    def send(self, message: Message) -> None:
        email = self._email(message)
        for attempt in (1, 2):
            try:
                self._connect().send_message(email)
                return
            except smtplib.SMTPServerDisconnected as exc:
                # A kept-open connection the server has since closed: reconnect once.
                self._connection = None
                if attempt == 2:
                    raise TemporaryFailure(f"SMTP server disconnected: {exc}") from exc
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
