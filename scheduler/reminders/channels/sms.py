"""Text messages through an SMS gateway's HTTP interface.

The gateway (or a small adapter in front of a commercial one) receives a signed JSON POST per
message, as the webhook sends it (HMAC-SHA256 over ``"<timestamp>.<body>"`` in
``X-Dosing-Signature``, the time in ``X-Dosing-Timestamp``, the ``Idempotency-Key`` header), over
one kept-alive connection per sending thread. The body carries only what a text message needs:
the number, the text (the reminder, already in the patient's language) and the sender.
Retries are the outbox's: a 5xx, 401, 403, 408, 425, 429, a timeout or a lost connection is
tried again later with the same idempotency key; any other 4xx gives the reminder up.

Numbers are checked with ``phonenumbers`` (Google's libphonenumber data): in E.164 form, and a
number that can exist in its country, so a mistyped digit count is refused at opt-in instead
of failing at the gateway weeks later.
"""

from __future__ import annotations

import json

from scheduler.clock import Clock
from scheduler.errors import InputError
from scheduler.reminders.channels import ChannelDescriptor, Message
from scheduler.reminders.channels.webhook import WebhookChannel
from scheduler.settings import Settings

MAX_TEXT = 480
"""Characters sent at most: three concatenated SMS parts of Chinese text (UCS-2, 67 characters
a part, would be 201); longer bodies are cut with an ellipsis rather than refused. The shipped
reminders are far shorter."""


def check_number(address: str) -> str:
    """An E.164 number that can exist (``+8613800138000``); anything else names ``address``.
    The library is imported here, at opt-in: a worker that only sends never loads it."""
    import phonenumbers

    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException as exc:
        raise InputError("address", f"{address!r} is not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InputError(
            "address", f"{address!r} is not a valid number in its country (check the digits)"
        )
    formatted: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if formatted != address:
        raise InputError("address", f"{address!r} is not in E.164 form: {formatted}")
    return formatted


class SmsChannel(WebhookChannel):
    """A signed POST per text message (see the module): the webhook's transport and status
    handling, with a body shaped for a gateway."""

    setting = "sms"

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        sender: str = "",
        timeout: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(url=url, secret=secret, timeout=timeout, clock=clock)
        self._sender = sender

    def _body(self, message: Message) -> bytes:
        text = message.body if len(message.body) <= MAX_TEXT else message.body[: MAX_TEXT - 1] + "…"
        return json.dumps(
            {
                "idempotency_key": message.idempotency_key,
                "to": message.to,
                "from": self._sender,
                "text": text,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()


def _open(settings: Settings, clock: Clock) -> SmsChannel:
    if not settings.sms_url:
        raise InputError("sms_url", "no SMS gateway is configured (DOSING_SMS_URL)")
    return SmsChannel(
        url=settings.sms_url,
        secret=settings.sms_secret.get_secret_value(),
        sender=settings.sms_sender,
        timeout=settings.sms_timeout_seconds,
        clock=clock,
    )


DESCRIPTOR = ChannelDescriptor(
    name="sms",
    label="text message (SMS)",
    address_pattern=r"\+[1-9][0-9]{6,14}",
    address_help="is not a phone number in E.164 form (e.g. +8613800138000)",
    max_address_length=16,
    open=_open,
    check=check_number,
)
