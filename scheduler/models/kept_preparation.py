"""The pharmacy preparation list as derived for one day, kept so that the list need not build
every subject's plan on each request (``scheduler.pharmacy.kept_rows``).

Unlike the worklist's rows these are not refreshed with every change: a subject's rows are
read only while its ``revision``, its site, its local day and the list's range and holidays are
those they were derived for (the stamp says which); any other subject is derived afresh.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel


class PreparationStamp(SQLModel, table=True):
    """What a subject's kept rows were derived from: one row per subject."""

    subject_id: int = Field(foreign_key="subject.id", primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    revision: int
    derived_for: date
    """The subject's local date, the plan's "today"."""
    range_start: date
    range_end: date
    holidays: str = Field(sa_type=Text, default="")
    """The site's closed days used for prepare-by dates, ISO dates joined by commas."""
    discrepancies: str = Field(sa_type=Text, default="")
    """The subject's open capsule count discrepancies as JSON, empty when none."""


class KeptPreparationRow(SQLModel, table=True):
    """One row of the list, as JSON, with what the list picks and counts rows by."""

    __table_args__ = (
        Index("ix_keptpreparationrow_site_prepare_by", "site_id", "prepare_by"),
        Index("ix_keptpreparationrow_prepare_by", "prepare_by"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    prepare_by: date
    payload: str = Field(sa_type=Text)


class KeptCapsuleTotal(SQLModel, table=True):
    """Capsules per strength over a subject's kept rows still to prepare: the list's stock
    totals add these up."""

    __table_args__ = (Index("ix_keptcapsuletotal_site_id", "site_id", "strength_mg", "count"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    strength_mg: float
    count: int
