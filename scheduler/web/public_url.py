"""The address patients reach the server at, for the feed links and QR codes the pages hand
out: ``DOSING_PUBLIC_BASE_URL`` when set, else the address this request came to, so that
``dosing serve --port 8765`` prints links to port 8765 and a server reached by its host name
prints that name. A loopback address works only on the server's own machine: on a patient's
phone it leads nowhere, so the pages warn the nurse before it is handed out."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from fastapi import Request

from scheduler.settings import Settings


def feed_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if settings.public_base_url:
        return settings
    return settings.model_copy(update={"public_base_url": str(request.base_url)})


def is_loopback(url: str) -> bool:
    """Whether ``url`` (http, https or webcal) names this machine only."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
