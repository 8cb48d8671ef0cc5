from __future__ import annotations

from datetime import date

from sqlalchemy import Index, text
from sqlmodel import Field

from scheduler.models.recorded import Recorded


class Discontinuation(Recorded, table=True):
    """Permanent end of treatment. At most one stands per subject (others must be voided): a
    new one after a void names the one it replaces, and the database allows one first record
    and one replacement of each."""

    __table_args__ = (
        Index(
            "uq_discontinuation_first",
            "subject_id",
            unique=True,
            postgresql_where=text("replaces_id IS NULL"),
            sqlite_where=text("replaces_id IS NULL"),
        ),
        Index("uq_discontinuation_replaces", "replaces_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    on_date: date
    reason: str = Field(max_length=32)
    note: str = Field(default="", max_length=500)
    replaces_id: int | None = Field(default=None, foreign_key="discontinuation.id")
