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
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    collate,
    exists,
    func,
    literal_column,
    true,
    union_all,
)
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel, col, select

from scheduler.clock import local_today
from scheduler.db import local_day
from scheduler.errors import InputError, NotFound
from scheduler.kernel.sites import in_scope
from scheduler.kernel.subject_state import plan_for
from scheduler.models import (
    AuditEntry,
    Day1Check,
    Discontinuation,
    Hold,
    Resumption,
    Signature,
    Site,
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


def _meaning(kind: str, row: Any) -> str:
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


def resume_dose_deviation(
    session: Session, subject_id: int, resume_date: date, dose_mg: float | None, now: datetime
) -> str:
    """One sentence when a resumption's dose differs from the dose the protocol proposed for
    the adverse event that caused the hold it ends (e.g. 12 mg where the rule proposes 10 mg),
    else empty."""
    voided = select(Void.record_id).where(Void.record_kind == "hold")
    ended = session.exec(
        select(Hold)
        .where(
            Hold.subject_id == subject_id,
            col(Hold.start_date) <= resume_date,
            col(Hold.id).not_in(voided),
        )
        .order_by(col(Hold.start_date).desc(), col(Hold.id).desc())
    ).first()
    subject = session.get(Subject, subject_id)
    if ended is None or ended.adverse_event_id is None or subject is None:
        return ""
    plan = plan_for(session, subject.code, now)
    assessed = next((a for a in plan.adverse_events if a.event.id == ended.adverse_event_id), None)
    if assessed is None or assessed.proposal.resume_dose_mg is None:
        return ""
    proposed = assessed.proposal.resume_dose_mg
    chosen = assessed.dose_mg if dose_mg is None else dose_mg
    if chosen == proposed:
        return ""
    return (
        f"The protocol proposes resuming at {proposed:g} mg after {assessed.event.term} grade "
        f"{assessed.event.grade}; this resumes at {chosen:g} mg, so the signature needs a reason."
    )


def _deviation(kind: str, row: Any, session: Session, now: datetime) -> str:
    """What a preview says when the decision departs from the protocol's proposal: a
    resumption at another dose than the rule proposes, a continuation past a protocol limit
    (one sentence each), or nothing."""
    sentences = []
    if kind == "resumption":
        sentences.append(
            resume_dose_deviation(session, row.subject_id, row.resume_date, row.dose_mg, now)
        )
    override = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "treatment.limit_override",
            AuditEntry.entity == kind,
            AuditEntry.entity_id == row.id,
        )
    ).first()
    if override is not None:
        passed = json.loads(override.new_value or "{}").get("limits_passed", [])
        sentences.append(
            f"This decision continues past the protocol's limit ({'; '.join(passed)}), "
            "so the signature needs a reason."
        )
    return " ".join(s for s in sentences if s)


def _row(session: Session, kind: str, record_id: int) -> Any:
    table: type[SQLModel] = Void if kind == "void" else SIGNED_KINDS[kind]
    row: Any = session.get(table, record_id)
    if row is None or (kind == "void" and row.record_kind not in SIGNED_KINDS):
        raise NotFound("record", f"no signable record {kind}-{record_id}")
    return row


def signable_record(
    session: Session, kind: str, record_id: int, now: datetime | None = None
) -> SignableRecord:
    """The record ``kind``-``record_id`` as a signature sees it; one outside the session's
    sites is answered as if it did not exist. ``now`` (default: when it was recorded) is the
    moment the protocol's proposal is read at."""
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
        meaning=_meaning(kind, row),
        deviation=_deviation(kind, row, session, now or row.recorded_at),
        sha256=record_digest(kind, row),
        voided=voided,
    )


@dataclass(frozen=True)
class Unsigned:
    """A decision awaiting its signature, as lists show it (no plan is built for it)."""

    kind: str
    id: int
    subject_id: int
    recorded_at: datetime
    meaning: str
    subject_code: str
    site_id: int
    time_zone: str

    @property
    def local_day(self) -> date:
        """The day it was recorded at the subject's site: lists date it so."""
        return local_today(self.recorded_at, self.time_zone)

    @property
    def list_key(self) -> tuple[date, str, str]:
        """Where lists place it: by that day, the subject's code, then ``KIND-ID`` as text."""
        return (self.local_day, self.subject_code, f"{self.kind}-{self.id}")


def _signed(kind: Any, record_id: Any) -> Any:
    return exists().where(col(Signature.record_kind) == kind, col(Signature.record_id) == record_id)


_SUBJECT_COLUMNS = (col(Subject.code), col(Subject.site_id), col(Subject.time_zone))


def _unsigned_statements(by: str) -> dict[str, Any]:
    """Per kind, the standing records without a signature, with their subject's code and site,
    of one subject (``by`` "subject", bound as ``subject``) or of some sites ("sites", bound
    as ``sites``): built once, as a list of every site reads them on each request."""
    where = {
        "subject": col(Subject.id) == bindparam("subject"),
        "sites": col(Subject.site_id).in_(bindparam("sites", expanding=True)),
        "any": true(),
    }[by]
    statements: dict[str, Any] = {}
    for kind, table in SIGNED_KINDS.items():
        record_id: Any = table.id  # type: ignore[attr-defined]
        statements[kind] = (
            core_select(*table.__table__.columns, *_SUBJECT_COLUMNS)  # type: ignore[attr-defined]
            .join(Subject, col(Subject.id) == table.subject_id)  # type: ignore[attr-defined]
            .where(
                where,
                ~_signed(kind, record_id),
                ~exists().where(col(Void.record_kind) == kind, col(Void.record_id) == record_id),
            )
        )
    statements["void"] = (
        core_select(*Void.__table__.columns, *_SUBJECT_COLUMNS)  # type: ignore[attr-defined]
        .join(Subject, col(Subject.id) == Void.subject_id)
        .where(
            where,
            _signed(col(Void.record_kind), col(Void.record_id)),
            ~_signed("void", col(Void.id)),
        )
    )
    return statements


_UNSIGNED = {by: _unsigned_statements(by) for by in ("subject", "sites", "any")}


def _signable_table(kind: str) -> Any:
    return Void if kind == "void" else SIGNED_KINDS[kind]


def _first_unsigned(collation: str | None) -> Any:
    """Of each site's decisions awaiting a signature, the first ``first`` (bound) as a list
    orders them (``Unsigned.list_key``), with the site's count, each record's own columns
    labelled ``KIND__NAME``: the day recorded in the subject's zone, the subject's code and
    ``KIND-ID`` as text, both by code point as Python compares them (SQLite's default
    collation does; PostgreSQL's database collation need not, "C" does). The page of every
    site shows ten per site of some nine hundred; one statement reads them, the ranked few
    joined back to their tables."""

    def text(column: Any) -> Any:
        return collate(column, collation) if collation else column

    parts = []
    # "+ 0": SQLite would otherwise read every subject of the sites through their site's index
    # and look each one's records up, where reading the records (hundreds, against ten
    # thousand subjects) and each one's subject by its key costs a third as much (15 ms to
    # 10 in docs/speed.md). PostgreSQL reads them alike either way.
    sites = (col(Subject.site_id) + 0).in_(bindparam("sites", expanding=True))
    for kind, statement in _UNSIGNED["any"].items():
        table = _signable_table(kind)
        parts.append(
            statement.where(sites).with_only_columns(
                literal_column(f"'{kind}'", String).label("kind"),
                table.id.label("id"),
                local_day(table.recorded_at, col(Subject.time_zone)).label("day"),
                col(Subject.code).label("code"),
                col(Subject.site_id).label("site_id"),
                col(Subject.time_zone).label("time_zone"),
            )
        )
    found = union_all(*parts).subquery()
    window: dict[str, Any] = {
        "partition_by": (found.c.site_id,),
        "order_by": (found.c.day, text(found.c.code), text(_label(found).self_group())),
    }
    ranked = core_select(
        found.c.kind,
        found.c.id,
        found.c.code,
        found.c.site_id,
        found.c.time_zone,
        func.row_number().over(**window).label("rank"),
        func.count().over(**window, rows=(None, None)).label("total"),
    ).subquery()
    shown = (ranked.c.kind, ranked.c.id, ranked.c.code, ranked.c.site_id, ranked.c.time_zone)
    top = (
        core_select(*shown, ranked.c.total)
        .where(ranked.c.rank <= bindparam("first", type_=Integer))
        .subquery()
    )
    columns: list[Any] = [top.c.kind, top.c.code, top.c.site_id, top.c.time_zone, top.c.total]
    joined: Any = top
    for kind in SIGNABLE_KINDS:
        table = _signable_table(kind)
        columns += [column.label(f"{kind}__{column.name}") for column in table.__table__.columns]
        joined = joined.outerjoin(table, and_(top.c.kind == kind, table.id == top.c.id))
    return core_select(*columns).select_from(joined)


def _label(found: Any) -> Any:
    return found.c.kind + literal_column("'-'", String) + cast(found.c.id, String)


_FIRST_UNSIGNED = {"sqlite": _first_unsigned(None), "postgresql": _first_unsigned("C")}
_COLUMN_NAMES = {
    kind: [column.name for column in _signable_table(kind).__table__.columns]
    for kind in SIGNABLE_KINDS
}


def first_unsigned(
    session: Session, site_ids: list[int], first: int
) -> tuple[list[Unsigned], dict[int, int]]:
    """The first ``first`` decisions awaiting a signature of each of ``site_ids`` (in the
    order of ``Unsigned.list_key``) and how many each site has: what the page of every site
    shows, ranked by the database (``_first_unsigned``)."""
    connection = session.connection()
    found: list[Unsigned] = []
    totals: dict[int, int] = {}
    statement = _FIRST_UNSIGNED[connection.dialect.name]
    for row in connection.execute(statement, {"sites": site_ids, "first": first}):
        values = row._mapping
        kind = values["kind"]
        record = SimpleNamespace(
            **{name: values[f"{kind}__{name}"] for name in _COLUMN_NAMES[kind]},
            code=values["code"],
            site_id=values["site_id"],
            time_zone=values["time_zone"],
        )
        found.append(_unsigned(kind, record))
        totals[record.site_id] = values["total"]
    return found, totals


def unsigned_records(
    session: Session, *, subject_id: int | None = None, site_ids: list[int] | None = None
) -> list[Unsigned]:
    """Every standing signable record without a signature, of one subject or of some sites
    (or of every site, given neither), oldest first: the decisions awaiting an investigator's
    signature. A void awaits one when what it strikes out was signed. One query per kind of
    record, the signed and voided ones left out by the database (the list of every site reads
    hundreds of rows and would otherwise load every signature and void too)."""
    params: dict[str, Any]
    if subject_id is not None:
        statements, params = _UNSIGNED["subject"], {"subject": subject_id}
    else:
        if site_ids is None:
            site_ids = [site_id for site_id in session.exec(select(col(Site.id))) if site_id]
        statements, params = _UNSIGNED["sites"], {"sites": site_ids}
    found: list[Unsigned] = []
    # Plain rows, not ORM objects: a list of every site holds hundreds of these.
    connection = session.connection()
    for kind, statement in statements.items():
        found += [_unsigned(kind, row) for row in connection.execute(statement, params).all()]
    return sorted(found, key=lambda u: (u.recorded_at, u.kind, u.id))


def _unsigned(kind: str, row: Any) -> Unsigned:
    return Unsigned(
        kind,
        row.id or 0,
        row.subject_id,
        row.recorded_at,
        _meaning(kind, row),
        row.code,
        row.site_id,
        row.time_zone,
    )


def unsigned_ids(
    session: Session, *, subject_id: int | None = None, site_ids: list[int] | None = None
) -> list[tuple[str, int, int]]:
    """(kind, id, subject id) of each record of ``unsigned_records``."""
    return [
        (u.kind, u.id, u.subject_id)
        for u in unsigned_records(session, subject_id=subject_id, site_ids=site_ids)
    ]
