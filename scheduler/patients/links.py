"""Private page links: a secret token per subject, issued and withdrawn by staff and audited;
only its hash is stored. Like the calendar feed's token (``scheduler.feeds.tokens``), and kept
apart from it: withdrawing one does not withdraw the other, and a leaked calendar URL (which
only reads) must not let anyone report doses."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from scheduler.errors import NotFound
from scheduler.kernel.subject_state import get_subject
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text
from scheduler.models import PatientLink
from scheduler.settings import LOCAL_BASE_URL, Settings

PAGE_PATH = "/p/"


class LinkGone(NotFound):
    """The link existed and was withdrawn (or replaced): 410, so the patient is told to ask
    the team for a new one rather than that the address is wrong."""

    http_status = 410


@dataclass(frozen=True)
class IssuedLink:
    token: str
    url: str


@dataclass(frozen=True)
class LinkStatus:
    """What can be said about a subject's link without its token."""

    live: bool
    issued_at: datetime | None
    issued_by: str | None
    alert_unreported: bool
    revoked: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def page_url(settings: Settings, token: str) -> str:
    base = (settings.public_base_url or LOCAL_BASE_URL).rstrip("/")
    return f"{base}{PAGE_PATH}{token}"


def patient_actor(link: PatientLink) -> str:
    """The name a patient's report is attributed to in the records and the audit trail: the
    link it came through, never a staff account."""
    return f"patient link {link.id}"


def live_link(session: Session, subject_id: int) -> PatientLink | None:
    query = select(PatientLink).where(
        PatientLink.subject_id == subject_id, col(PatientLink.revoked_at).is_(None)
    )
    return session.exec(query.order_by(col(PatientLink.id).desc())).first()


_WITH_LINKS = select(PatientLink.subject_id).where(
    col(PatientLink.subject_id).in_(bindparam("ids", expanding=True)),
    col(PatientLink.revoked_at).is_(None),
)
"""Built once: the reminders' refresh asks it on every write of a subject with reminders."""


def subjects_with_links(session: Session, subject_ids: list[int]) -> set[int]:
    """Those of ``subject_ids`` with a live link (their dose reminders carry one-tap links)."""
    if not subject_ids:
        return set()
    return set(session.exec(_WITH_LINKS, params={"ids": subject_ids}))


def revoke_link(unit: Unit, code: str, *, reason: str) -> int:
    """Withdraw the subject's live link (its page then answers 410); returns how many were
    withdrawn (0 is not an error)."""
    reason = check_text("reason", reason, required=True)
    subject = get_subject(unit.session, code)
    rows = unit.session.exec(
        select(PatientLink).where(
            PatientLink.subject_id == subject.id, col(PatientLink.revoked_at).is_(None)
        )
    )
    revoked = 0
    for row in rows:
        row.revoked_at, row.revoked_by = unit.now, unit.actor
        unit.session.add(row)
        unit.audit(
            "patient_link.revoke",
            entity="patientlink",
            entity_id=row.id,
            subject_id=subject.id,
            old={"live": True},
            new={"live": False},
            reason=reason,
        )
        revoked += 1
    return revoked


def issue_link(
    unit: Unit,
    settings: Settings,
    code: str,
    *,
    alert_unreported: bool | None = None,
    reason: str = "",
) -> IssuedLink:
    """A new private link; a live one is withdrawn first (rotation: a link cannot be shown
    twice, only its hash is kept). ``alert_unreported`` None keeps the subject's choice."""
    subject = get_subject(unit.session, code)
    reason = check_text("reason", reason, required=False)
    earlier = live_link(unit.session, subject.id or 0)
    keep = earlier.alert_unreported if earlier is not None else False
    if earlier is not None:
        revoke_link(unit, code, reason=reason or "replaced by a new link")
    token = secrets.token_urlsafe(32)
    row = PatientLink(
        token_hash=hash_token(token),
        subject_id=subject.id or 0,
        alert_unreported=keep if alert_unreported is None else alert_unreported,
        created_at=unit.now,
        created_by=unit.actor,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "patient_link.rotate" if earlier is not None else "patient_link.issue",
        entity="patientlink",
        entity_id=row.id,
        subject_id=subject.id,
        new={"live": True, "alert_unreported": row.alert_unreported},
        reason=reason,
    )
    return IssuedLink(token=token, url=page_url(settings, token))


def set_unreported_alert(unit: Unit, code: str, *, on: bool, reason: str = "") -> PatientLink:
    """The subject's opt-in (or opt-out) to be listed when a dosing day passes unreported."""
    subject = get_subject(unit.session, code)
    link = live_link(unit.session, subject.id or 0)
    if link is None:
        raise NotFound("subject", f"{code} has no private page link; issue one first")
    old = link.alert_unreported
    link.alert_unreported = on
    unit.session.add(link)
    unit.audit(
        "patient_link.alert_unreported",
        entity="patientlink",
        entity_id=link.id,
        subject_id=subject.id,
        old={"alert_unreported": old},
        new={"alert_unreported": on},
        reason=check_text("reason", reason, required=False),
    )
    return link


def link_status(session: Session, code: str) -> LinkStatus:
    subject = get_subject(session, code)
    rows = list(
        session.exec(
            select(PatientLink)
            .where(PatientLink.subject_id == subject.id)
            .order_by(col(PatientLink.id))
        )
    )
    live = [r for r in rows if r.revoked_at is None]
    last = live[-1] if live else None
    return LinkStatus(
        live=last is not None,
        issued_at=last.created_at if last else None,
        issued_by=last.created_by if last else None,
        alert_unreported=bool(last and last.alert_unreported),
        revoked=len(rows) - len(live),
    )


def find_link(session: Session, token: str) -> PatientLink | None:
    """The link ``token`` names, live or withdrawn. An unknown token and a withdrawn one cost
    the same lookup of the hash (a guess never matches a stored hash by chance)."""
    return session.exec(
        select(PatientLink).where(PatientLink.token_hash == hash_token(token))
    ).first()


def resolve_link(session: Session, token: str) -> PatientLink:
    """The live link ``token`` names. Raises NotFound or LinkGone."""
    row = find_link(session, token)
    if row is None:
        raise NotFound("token", "no such page")
    if row.revoked_at is not None:
        raise LinkGone("token", "this page link was withdrawn")
    return row
