"""The uniqueness rules the database itself enforces, and what a refusal means to the person.

A service checks these rules before it writes, so a sequential duplicate gets a clear error
first; two writers at the same moment can both pass that check, and then the database refuses
the second one. Either way the person sees the same field and reason (CLI exit 2, HTTP 409).
PostgreSQL names the violated constraint; SQLite names the table and columns, so each rule
carries both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError


@dataclass(frozen=True, slots=True)
class UniqueRule:
    name: str
    table: str
    columns: tuple[str, ...]
    field: str
    reason: str


UNIQUE_RULES: tuple[UniqueRule, ...] = (
    UniqueRule(
        "uq_doserecord_first_entry",
        "doserecord",
        ("subject_id", "dose_date", "slot"),
        "date",
        "a dose is already recorded for this day; give a reason to correct it",
    ),
    UniqueRule(
        "uq_doserecord_corrects",
        "doserecord",
        ("corrects_id",),
        "date",
        "this dose record was corrected at the same moment by someone else; look again",
    ),
    UniqueRule(
        "uq_discontinuation_first",
        "discontinuation",
        ("subject_id",),
        "on",
        "treatment is already discontinued; void that record first to change it",
    ),
    UniqueRule(
        "uq_discontinuation_replaces",
        "discontinuation",
        ("replaces_id",),
        "on",
        "treatment is already discontinued; void that record first to change it",
    ),
    UniqueRule(
        "ix_subject_code", "subject", ("code",), "code", "a subject with this code is enrolled"
    ),
)

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w., ]+)")


def unique_rule_of(error: IntegrityError) -> UniqueRule | None:
    """The rule a refused write broke, if it is one of ours."""
    name = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if name:
        return next((r for r in UNIQUE_RULES if r.name == name), None)
    found = _SQLITE_UNIQUE.search(str(error.orig))
    if found is None:
        return None
    qualified = tuple(c.strip() for c in found.group("columns").split(","))
    return next(
        (r for r in UNIQUE_RULES if qualified == tuple(f"{r.table}.{c}" for c in r.columns)),
        None,
    )
