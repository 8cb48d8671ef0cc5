"""The channels one sending thread uses, opened on first use from the settings.

Connections are not shared between threads: each sender keeps its own SMTP connection and HTTP
keep-alive pool, and reuses them for every message of every batch.
"""

from __future__ import annotations

from collections.abc import Callable

from scheduler.channels import Channel, Message, TemporaryFailure
from scheduler.channels.console import ConsoleChannel
from scheduler.channels.smtp import SmtpChannel
from scheduler.channels.webhook import WebhookChannel
from scheduler.clock import Clock
from scheduler.errors import InputError
from scheduler.settings import Settings

ChannelFactory = Callable[[], Channel]


def factories(settings: Settings, clock: Clock) -> dict[str, ChannelFactory]:
    def email() -> Channel:
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

    def webhook() -> Channel:
        if not settings.webhook_url:
            raise InputError("webhook_url", "no webhook is configured (DOSING_WEBHOOK_URL)")
        return WebhookChannel(
            url=settings.webhook_url,
            secret=settings.webhook_secret.get_secret_value(),
            timeout=settings.webhook_timeout_seconds,
            clock=clock,
        )

    return {"email": email, "webhook": webhook, "console": ConsoleChannel}


class ChannelSet:
    def __init__(self, makers: dict[str, ChannelFactory]) -> None:
        self._makers = makers
        self._open: dict[str, Channel] = {}

    def send(self, channel: str, message: Message) -> None:
        opened = self._open.get(channel)
        if opened is None:
            maker = self._makers.get(channel)
            if maker is None:
                raise TemporaryFailure(f"no {channel!r} channel in this worker")
            try:
                opened = self._open[channel] = maker()
            except InputError as exc:
                # A configuration mistake: keep retrying so a fixed setting still sends it.
                raise TemporaryFailure(str(exc)) from exc
        opened.send(message)

    def close(self) -> None:
        for opened in self._open.values():
            opened.close()
        self._open.clear()
