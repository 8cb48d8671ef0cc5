"""The one settings object. Values come from the environment (``DOSING_*``; ``DATABASE_URL`` is
accepted too), then the defaults below, which run the embedded demo on a SQLite file."""

from __future__ import annotations

import getpass
from datetime import date
from functools import lru_cache

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOSING_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///dosing.db",
        validation_alias=AliasChoices("DOSING_DATABASE_URL", "DATABASE_URL"),
    )
    user: str = Field(default_factory=_login_name)
    """Who is recorded in the audit trail when a command does not say."""

    default_site_code: str = "ZJU1"
    default_site_name: str = "The First Affiliated Hospital, Zhejiang University School of Medicine"
    default_site_time_zone: str = "Asia/Shanghai"
    default_site_address: str = "79 Qingchun Road, Hangzhou, Zhejiang, China"
    clinic_phone: str = "+86 571 0000 0000"
    site_holidays: dict[str, list[date]] = Field(default_factory=dict)
    """Days each site's pharmacy is closed, by site code; the preparation lead time skips them
    (JSON, e.g. DOSING_SITE_HOLIDAYS='{"ZJU1": ["2026-10-01", "2026-10-02"]}')."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
