"""The records an investigator signs, what a signature of each means, and the digest that binds
a signature to the exact record.

Signable: a hold (dosing stops at once, the investigator confirms it), a resumption (with its
dose level, and any continuation past a hold or delay limit), a discontinuation, a day-1
criteria assessment, and the void of any of these (striking out a signed decision is itself a
decision). A record is named ``KIND-ID`` (``hold-7``), as ``dosing records`` lists it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from scheduler.errors import InputError, NotFound
from scheduler.kernel.sites import in_scope
from scheduler.models import (
    AuditEntry,
    Day1Check,
    Discontinuation,
    Hold,
    Resumption,
    Signature,
    Subject,
    Void,
)

SIGNED_KINDS: dict[str, type[SQLModel]] = {
    "hold": Hold,
    "resumption": Resumption,
    "discontinuation": Discontinuation,
    "day1_check": Day1Check,
}
"""The decisions an investigator signs, by record kind."""
SIGNABLE_KINDS: tuple[str, ...] = (*SIGNED_KINDS, "void")


@dataclass(frozen=True)
class SignableRecord:
    """One signable record, as the preview and the signature show it."""

    kind: str
    id: int
    subject_id: int
    subject_code: str
    time_zone: str
    recorded_at: datetime
    recorded_by: str
    meaning: str
    deviation: str
    """One sentence when the decision departs from what the protocol proposes (then the
    signature needs a reason), else empty."""
    sha256: str
    voided: bool

    @property
    def label(self) -> str:
        return f"{self.kind}-{self.id}"


def parse_record_id(text: str) -> tuple[str, int]:
    """``hold-7`` -> ("hold", 7); anything else is refused naming ``record``."""
    kind, _, number = text.strip().rpartition("-")
    if kind not in SIGNABLE_KINDS or not number.isdigit() or len(number) > 9:
        raise InputError(
            "record",
            f"{text!r} is not a signable record id (KIND-ID, KIND one of "
            f"{', '.join(SIGNABLE_KINDS)}; see `dosing records SUBJECT`)",
        )
    return kind, int(number)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def record_digest(kind: str, row: SQLModel) -> str:
    """SHA-256 of the record's kind and every stored value, in a canonical form: what a
    signature is bound to."""
    values = {name: _canonical(value) for name, value in row.model_dump().items()}
    text = json.dumps([kind, values], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _meaning(kind: str, row: Any, session: Session) -> str:
    if kind == "hold":
        return f"approved: hold from {row.start_date}"
    if kind == "resumption":
        if row.dose_mg is not None:
            return f"approved: resumption on {row.resume_date} at {row.dose_mg:g} mg"
        return f"approved: resumption on {row.resume_date} at the same dose"
    if kind == "discontinuation":
        return f"approved: discontinuation on {row.on_date} ({row.reason})"
    if kind == "day1_check":
        verdict = "met" if row.met else "not met"
        return f"approved: cycle {row.cycle} day-1 criteria {verdict} on {row.assessed_on}"
    return f"approved: void of {row.record_kind}-{row.record_id} ({row.reason})"


def _deviation(kind: str, row_id: int, session: Session) -> str:
    """The sentence a preview shows when the decision continued past a protocol limit."""
    override = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "treatment.limit_override",
            AuditEntry.entity == kind,
            AuditEntry.entity_id == row_id,
        )
    ).first()
    if override is None:
        return ""
    passed = json.loads(override.new_value or "{}").get("limits_passed", [])
    return (
        f"This decision continues past the protocol's limit ({'; '.join(passed)}), "
        "so the signature needs a reason."
    )


def _row(session: Session, kind: str, record_id: int) -> Any:
    table: type[SQLModel] = Void if kind == "void" else SIGNED_KINDS[kind]
    row: Any = session.get(table, record_id)
    if row is None or (kind == "void" and row.record_kind not in SIGNED_KINDS):
        raise NotFound("record", f"no signable record {kind}-{record_id}")
    return row


def signable_record(session: Session, kind: str, record_id: int) -> SignableRecord:
    """The record ``kind``-``record_id`` as a signature sees it; one outside the session's
    sites is answered as if it did not exist."""
    row = _row(session, kind, record_id)
    subject = session.get(Subject, row.subject_id)
    if subject is None or not in_scope(session, subject.site_id):
        raise NotFound("record", f"no signable record {kind}-{record_id}")
    voided = (
        session.exec(
            select(Void.id).where(Void.record_kind == kind, Void.record_id == record_id)
        ).first()
        is not None
    )
    return SignableRecord(
        kind=kind,
        id=record_id,
        subject_id=subject.id or 0,
        subject_code=subject.code,
        time_zone=subject.time_zone,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        meaning=_meaning(kind, row, session),
        deviation=_deviation(kind, record_id, session),
        sha256=record_digest(kind, row),
        voided=voided,
    )


def _of(query: Any, table: Any, subject_id: int | None, site_ids: list[int] | None) -> Any:
    if subject_id is not None:
        query = query.where(table.subject_id == subject_id)
    if site_ids is not None:
        query = query.join(Subject, col(Subject.id) == table.subject_id).where(
            col(Subject.site_id).in_(site_ids)
        )
    return query


def unsigned_ids(
    session: Session, *, subject_id: int | None = None, site_ids: list[int] | None = None
) -> list[tuple[str, int, int]]:
    """(kind, id, subject id) of every standing signable record without a signature, of one
    subject or of some sites, oldest first: the decisions awaiting an investigator's signature.
    A void awaits one when what it strikes out was signed."""
    signed = set(
        session.exec(
            _of(select(Signature.record_kind, Signature.record_id), Signature, subject_id, site_ids)
        )
    )
    voided = set(
        session.exec(_of(select(Void.record_kind, Void.record_id), Void, subject_id, site_ids))
    )
    found: list[tuple[datetime, str, int, int]] = []
    for kind, table in SIGNED_KINDS.items():
        columns = select(table.id, table.subject_id, table.recorded_at)  # type: ignore[attr-defined]
        for row_id, owner, at in session.exec(_of(columns, table, subject_id, site_ids)):
            if (kind, row_id) not in signed and (kind, row_id) not in voided:
                found.append((at, kind, row_id, owner))
    for void in session.exec(_of(select(Void), Void, subject_id, site_ids)):
        if (void.record_kind, void.record_id) in signed and ("void", void.id) not in signed:
            found.append((void.recorded_at, "void", void.id or 0, void.subject_id))
    return [(kind, row_id, owner) for _, kind, row_id, owner in sorted(found)]
