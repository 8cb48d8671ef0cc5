"""Signing a decision, refusing a wrong password, and reading signatures back.

A signature is given by the investigator acting in the unit of work (``unit.actor``), who
re-enters their password (both components, user name and password, at the first signing of a
web session; the password alone after that: 21 CFR 11.200(a)(1)). The signature stores the
signer's printed name, the moment in UTC and at the site's clock, its meaning and the digest of
the record it signs. A wrong password is refused and counts toward the account's lockout like a
failed login; the face records it in a unit of its own (``record_failed_signature``), because
the refused unit stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from scheduler.errors import Conflict, InputError
from scheduler.kernel.actors import INVESTIGATOR_ACTIONS, require_account
from scheduler.kernel.subject_state import get_subject
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text
from scheduler.models import Signature, StaffUser, Subject, Void
from scheduler.signatures.records import (
    SIGNED_KINDS,
    SignableRecord,
    record_digest,
    signable_record,
    unsigned_ids,
)
from scheduler.staff.accounts import verify_password
from scheduler.staff.throttle import login_wait, record_failure


class SignatureRefused(InputError):
    """Raised when the password (or user name) given to sign is wrong: nothing is signed."""

    http_status = 401


@dataclass(frozen=True)
class SignatureLine:
    """A signature as the subject page, ``dosing records`` and the manifest show it."""

    record: str
    subject: str
    signer_name: str
    signer_account: str
    signed_at: str
    signed_local: str
    meaning: str
    reason: str
    record_sha256: str
    valid: bool
    """Whether the digest still matches the record the signature names."""


def printed_name(row: StaffUser) -> str:
    return row.full_name or row.name


def _local(record: SignableRecord, unit: Unit) -> str:
    moment = unit.now.astimezone(ZoneInfo(record.time_zone))
    return f"{moment:%Y-%m-%d %H:%M %z} ({record.time_zone})"[:64]


def sign(
    unit: Unit,
    kind: str,
    record_id: int,
    *,
    password: str,
    user_name: str | None = None,
    reason: str = "",
    expected_sha256: str | None = None,
    address: str | None = None,
) -> Signature:
    """Sign ``kind``-``record_id`` as ``unit.actor``. ``user_name``, when the face asks for it,
    must be the actor's own; ``expected_sha256`` is the digest the preview showed: a record that
    no longer matches it is refused as a stale preview."""
    signer = require_account(unit.session, unit.actor, INVESTIGATOR_ACTIONS)
    if user_name is not None and user_name.strip() != signer.name:
        raise SignatureRefused("user_name", "sign with your own user name and password")
    wait = login_wait(unit.session, signer.name, address, unit.now)
    if wait is not None and wait.locked:
        raise SignatureRefused("password", "the account is locked after failed attempts")
    if verify_password(unit.session, signer.name, password) is None:
        raise SignatureRefused("password", "wrong password: nothing was signed")
    record = signable_record(unit.session, kind, record_id)
    if expected_sha256 is not None and expected_sha256 != record.sha256:
        raise Conflict("preview", "the record changed since the preview; review it again")
    if record.voided:
        raise Conflict("record", f"{record.label} is voided; nothing to sign")
    already = unit.session.exec(
        select(Signature).where(Signature.record_kind == kind, Signature.record_id == record_id)
    ).first()
    if already is not None:
        raise Conflict(
            "record",
            f"{record.label} was signed already by {already.signer_name} at {already.signed_at}",
        )
    reason = check_text("reason", reason, required=bool(record.deviation))
    signature = Signature(
        subject_id=record.subject_id,
        record_kind=kind,
        record_id=record_id,
        record_sha256=record.sha256,
        signer_id=signer.id or 0,
        signer_account=signer.name,
        signer_name=printed_name(signer),
        signed_at=unit.now,
        signed_local=_local(record, unit),
        meaning=record.meaning,
        reason=reason,
    )
    unit.session.add(signature)
    unit.session.flush()
    unit.audit(
        "signature.sign",
        entity="signature",
        entity_id=signature.id,
        subject_id=record.subject_id,
        new={
            "record": record.label,
            "meaning": record.meaning,
            "record_sha256": record.sha256,
            "signer": signature.signer_name,
        },
        reason=reason,
    )
    return signature


def has_signed_since(session: Session, staff_name: str, since: datetime) -> bool:
    """Whether ``staff_name`` signed anything since ``since`` (the start of a web session):
    then the password alone identifies them at the next signing (11.200(a)(1)(i))."""
    found = session.exec(
        select(Signature.id).where(
            Signature.signer_account == staff_name, col(Signature.signed_at) >= since
        )
    ).first()
    return found is not None


def record_failed_signature(
    unit: Unit, name: str, kind: str, record_id: int, address: str | None
) -> None:
    """Keep a refused signature: audited as ``signature.failed`` and counted toward the
    account's lockout as a failed login is."""
    record_failure(unit, name, address)
    unit.audit(
        "signature.failed",
        entity="signature",
        entity_id=None,
        new={"record": f"{kind}-{record_id}"},
    )


def _line(session: Session, row: Signature, subject: str) -> SignatureLine:
    table = SIGNED_KINDS.get(row.record_kind, Void)
    target = session.get(table, row.record_id)
    valid = target is not None and record_digest(row.record_kind, target) == row.record_sha256
    return SignatureLine(
        record=f"{row.record_kind}-{row.record_id}",
        subject=subject,
        signer_name=row.signer_name,
        signer_account=row.signer_account,
        signed_at=row.signed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        signed_local=row.signed_local,
        meaning=row.meaning,
        reason=row.reason,
        record_sha256=row.record_sha256,
        valid=valid,
    )


def signatures_of(session: Session, code: str) -> list[SignatureLine]:
    """The subject's signatures, in the order given."""
    subject = get_subject(session, code)
    rows = session.exec(
        select(Signature).where(Signature.subject_id == subject.id).order_by(col(Signature.id))
    )
    return [_line(session, row, subject.code) for row in rows]


def awaiting_signature(session: Session, code: str) -> list[SignableRecord]:
    """The subject's decisions still to be signed, oldest first."""
    subject = get_subject(session, code)
    return [
        signable_record(session, kind, row_id)
        for kind, row_id, _ in unsigned_ids(session, subject_id=subject.id)
    ]


def manifest(session: Session, site_ids: list[int] | None) -> list[SignatureLine]:
    """Every signature of the subjects of ``site_ids`` (None: all), with whether each still
    matches its record: the signature manifest."""
    query = (
        select(Signature, Subject.code)
        .join(Subject, col(Subject.id) == Signature.subject_id)
        .order_by(col(Signature.id))
    )
    if site_ids is not None:
        query = query.where(col(Subject.site_id).in_(site_ids))
    return [_line(session, row, code) for row, code in session.exec(query)]
