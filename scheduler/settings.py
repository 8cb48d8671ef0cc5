"""The one settings object. Values come from the environment (``DOSING_*``; ``DATABASE_URL`` is
accepted too), then the defaults below, which run the embedded demo on a SQLite file."""

from __future__ import annotations

from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_BASE_URL = "http://127.0.0.1:8000"
"""The base of feed URLs the CLI prints when DOSING_PUBLIC_BASE_URL is not set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOSING_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///dosing.db",
        validation_alias=AliasChoices("DOSING_DATABASE_URL", "DATABASE_URL"),
    )
    user: str = ""
    """The staff account a CLI command acts as when it has no ``--user`` (DOSING_USER). Never
    the operating-system user: a name that is no active staff account is refused."""

    default_site_code: str = "ZJU1"
    default_site_name: str = "The First Affiliated Hospital, Zhejiang University School of Medicine"
    default_site_time_zone: str = "Asia/Shanghai"
    default_site_address: str = "79 Qingchun Road, Hangzhou, Zhejiang, China"
    clinic_phone: str = "+86 571 0000 0000"
    site_holidays: dict[str, list[date]] = Field(default_factory=dict)
    """Days each site's pharmacy is closed, by site code; the preparation lead time skips them
    (JSON, e.g. DOSING_SITE_HOLIDAYS='{"ZJU1": ["2026-10-01", "2026-10-02"]}')."""

    public_base_url: str | None = None
    """Where patients reach the server; feed URLs and QR codes are printed under it (https in
    production). Unset, the web app uses the address the request came to (behind a proxy,
    uvicorn's ``--proxy-headers`` makes it the original one), and the CLI
    ``LOCAL_BASE_URL``."""
    feed_calendar_name: str = "Study calendar"
    feed_show_drug_name: bool = False
    """Privacy by default: feed titles say "Study capsule" unless the site turns this on."""
    feed_rate_per_second: float = Field(default=0.5, gt=0)
    feed_rate_burst: int = Field(default=20, ge=1)
    """Per-token token bucket of the feed endpoint (in-process): a burst, then a steady rate."""

    patient_link_secret: SecretStr = SecretStr("")
    """Signs the one-tap "I took it" links of dose reminders (``scheduler.patients.one_tap``);
    at least 32 random characters. Unset, reminders carry no such link. Changing it voids the
    links already sent."""
    patient_requests_per_window: int = Field(default=30, ge=1)
    patient_request_window_seconds: int = Field(default=600, ge=1)
    """The per-token throttle of the patient page and the one-tap links: at most this many
    requests per window, then 429 with Retry-After."""

    scheduler_enabled: bool = True
    """Run the reminder jobs inside `dosing serve` too (`dosing worker` always runs them)."""
    reminder_poll_seconds: float = Field(default=15.0, gt=0)
    reminder_batch_size: int = Field(default=200, ge=1, le=10_000)
    reminder_senders: int = Field(default=4, ge=1, le=64)
    """Threads per process sending in parallel, each with its own SMTP and HTTP connection."""
    reminder_lease_seconds: int = Field(default=300, ge=2)
    """How long a claim lasts: a worker that dies holding one frees it after this."""
    reminder_max_attempts: int = Field(default=6, ge=1)
    reminder_backoff_seconds: float = Field(default=60.0, gt=0)
    reminder_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    reminder_dose_grace_hours: float | None = Field(default=None, gt=0)
    """Caps the grace of dose reminders, which is otherwise the protocol's late_dose_hours."""
    reminder_visit_time: time = time(18, 0)
    """Local time of the visit reminder, the day before the visit."""
    reminder_visit_grace_hours: float = Field(default=12.0, gt=0)
    reminder_horizon_days: int = Field(default=28, ge=1, le=400)
    digest_time: time = time(7, 30)
    """Local time at each site at which the nurse and pharmacy digests are built."""
    digest_grace_hours: float = Field(default=4.0, gt=0)
    digest_channel: str = "email"
    nurse_digest_to: dict[str, list[str]] = Field(default_factory=dict)
    """Addresses of each site's nurse digest, by site code (JSON)."""
    pharmacy_digest_to: dict[str, list[str]] = Field(default_factory=dict)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_tls: str = "none"
    """none, starttls or tls (implicit TLS, usually port 465)."""
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "reminders@dosing.invalid"
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    smtp_ca_file: str = ""
    """A PEM bundle of CAs trusted besides the system store (a relay with an internal CA)."""
    webhook_url: str = ""
    webhook_secret: SecretStr = SecretStr("")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    sms_url: str = ""
    """The SMS gateway's HTTP endpoint (docs/reminders.md, "SMS")."""
    sms_secret: SecretStr = SecretStr("")
    sms_sender: str = ""
    """The sender name or number the gateway shows, if it lets the sender choose."""
    sms_timeout_seconds: float = Field(default=10.0, gt=0)
    password_hash_cost: Literal["default", "minimal"] = "default"
    """argon2 cost of new staff password hashes: "default" (RFC 9106 low-memory profile) in any
    real installation; "minimal" (1 pass over 8 KiB) only for the test suite, where hashing is
    not what is under test. Existing hashes verify whatever this says."""
    resident_socket: Path | None = None
    """The Unix socket of `dosing resident` (docs/resident.md): where it listens, and where the
    `dosing` command looks for it. Unset (or empty), every command runs in its own process."""

    @field_validator("resident_socket", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # The client reads DOSING_RESIDENT_SOCKET="" as unset (scheduler/app/entry.py): so here.
        return None if value == "" else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
