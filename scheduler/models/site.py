from __future__ import annotations

from sqlmodel import Field, SQLModel


class Site(SQLModel, table=True):
    """A trial site: its dates are local to ``time_zone``."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    time_zone: str = Field(max_length=64)
    address: str = Field(default="", max_length=300)
    phone: str = Field(default="", max_length=64)
    language: str = Field(default="en", max_length=16)
    """The language of a subject enrolled here unless enrolment names another."""
