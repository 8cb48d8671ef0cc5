"""Patient reminders as outbox rows derived from the plan, and the patients' choices about them.

``refresh_reminders`` is a derived-rows refresher: ``unit_of_work`` calls it before commit for
every subject whose records the unit changed, so a hold and the cancellation of the reminders it
makes wrong commit together or not at all. It compares the reminders the plan wants now (within
the horizon) with the open rows (pending, or claimed by a worker about to send them): those no
longer wanted are cancelled, new ones are inserted, and a wanted reminder that was cancelled
earlier (a hold struck out) becomes pending again. A worker checks its claim just before each
send, so cancelling a claimed row stops it too; a row already sent is never touched.

Wanted: a dose reminder at the dose time, in the subject's zone, for each dose slot still
``planned`` and not tentative (never for a held, cancelled, taken or missed dose); a visit
reminder at ``reminder_visit_time`` the day before each visit not yet done. Each is useless after
its grace: a dose reminder after the protocol's ``late_dose_hours`` (a dose later than that
counts as missed; settings may shorten it), a visit reminder after ``reminder_visit_grace_hours``.
The settings are the unit's: those of the application or worker that runs the change.

A body says the subject code, the date and what to do, built from numbers and fixed words only
(never from record text): a lock screen or a shared inbox must not show a drug, a diagnosis or
a reason. The dose strength is part of what to do (after a reduction old capsules may still be
at home); of the protocol's free-text "bring" list only the phrases in ``BRING_PHRASES`` pass
(``scheduler.core.reminders``, where the rule itself lives).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, case, func, true, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from scheduler.appointments.booking import bookings_of
from scheduler.appointments.clinics import sites_with_clinic
from scheduler.core import Plan
from scheduler.core.appointments import Booking
from scheduler.core.dosing_days import DoseSlot
from scheduler.core.reminders import TakenLink, Wanted
from scheduler.core.reminders import wanted_reminders as core_wanted_reminders
from scheduler.errors import InputError
from scheduler.i18n import wording
from scheduler.kernel.sites import site_scope
from scheduler.kernel.subject_state import SubjectState, get_subject
from scheduler.kernel.unit import Unit
from scheduler.models import Reminder, ReminderPreference, Subject
from scheduler.models.reminder import REMINDER_STATUSES
from scheduler.patients import one_tap
from scheduler.patients.links import subjects_with_links
from scheduler.pharmacy.accountability import new_capsule_days_of
from scheduler.reminders.channels.registry import check_address
from scheduler.settings import Settings

PATIENT_KINDS = ("dose", "visit")
OPEN_STATUSES = ("pending", "claimed")
"""Not yet sent and not given up: what a change of plan can still cancel."""


def idempotency_key(
    kind: str, owner: str, item: str, due_at: datetime, channel: str, address: str
) -> str:
    """Stable for one message: the same plan item, instant and destination give the same key."""
    route = hashlib.sha256(f"{channel}:{address}".encode()).hexdigest()[:12]
    return f"{kind}.{owner}.{item}.{due_at:%Y%m%dT%H%MZ}.{route}"


def wanted_reminders(
    plan: Plan,
    now: datetime,
    settings: Settings,
    new_capsules_on: frozenset[date] = frozenset(),
    language: str = "en",
    bookings: Mapping[str, Booking] | None = None,
    taken_link: TakenLink | None = None,
) -> list[Wanted]:
    """The core's rule, with the horizon and graces of the application or worker running, and
    the days whose dose waits for new capsules (``pharmacy.accountability.new_capsule_days``),
    worded in the subject's ``language``; ``taken_link`` for a subject with a private page
    (``scheduler.patients.one_tap``)."""
    return core_wanted_reminders(
        plan,
        now,
        horizon_days=settings.reminder_horizon_days,
        dose_grace_hours=settings.reminder_dose_grace_hours,
        visit_time=settings.reminder_visit_time,
        visit_grace_hours=settings.reminder_visit_grace_hours,
        new_capsules_on=new_capsules_on,
        wording=wording(language),
        bookings=bookings,
        taken_link=taken_link,
    )


_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_PREFERENCES = select(ReminderPreference).where(col(ReminderPreference.subject_id).in_(_IDS))
_TABLE = Reminder.__table__.c  # type: ignore[attr-defined]
_OPEN_ROWS = sa_select(
    _TABLE.id, _TABLE.idempotency_key, _TABLE.status, _TABLE.title, _TABLE.body, _TABLE.expires_at
).where(
    _TABLE.subject_id.in_(_IDS),
    _TABLE.kind.in_(PATIENT_KINDS),
    _TABLE.status.in_(OPEN_STATUSES),
)
"""Built once: on a write, building the statements cost more than running them."""


def _preferences(session: Session, subject_ids: Iterable[int]) -> dict[int, ReminderPreference]:
    rows = session.exec(_PREFERENCES, params={"ids": list(subject_ids)})
    return {p.subject_id: p for p in rows}


def insert_ignoring_duplicates(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert outbox rows; a row whose idempotency key exists already is left as it is."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Reminder).on_conflict_do_nothing(index_elements=["idempotency_key"])
    session.execute(statement, list(rows))


def refresh_reminders(unit: Unit, fresh: Sequence[SubjectState]) -> None:
    """Bring the pending reminders of these subjects in line with their plans (see module)."""
    settings, session, now = unit.settings, unit.session, unit.now
    ids = [s.subject.id for s in fresh if s.subject.id is not None]
    if not ids:
        return
    preferences = _preferences(session, ids)
    # Claimed rows count too: a worker may hold a claim on a reminder the change makes wrong;
    # cancelling the row makes that worker skip it (it checks just before sending).
    open_rows = session.execute(_OPEN_ROWS, {"ids": ids}).all()
    by_key = {row.idempotency_key: row for row in open_rows}
    wanted: dict[str, tuple[SubjectState, ReminderPreference, Wanted]] = {}
    opted_in = [
        s for s in fresh if (p := preferences.get(s.subject.id or 0)) is not None and p.opted_in
    ]
    collect = new_capsule_days_of(session, opted_in)
    booking_sites = sites_with_clinic(session, sorted({s.site.id or 0 for s in opted_in}))
    booked = bookings_of(
        session,
        [s.subject.id or 0 for s in opted_in if s.site.id in booking_sites],
        {s.site.id or 0: s.site for s in opted_in},
    )
    tapping = (
        subjects_with_links(session, [s.subject.id or 0 for s in opted_in])
        if one_tap.enabled(settings)
        else set()
    )
    for state in opted_in:
        preference = preferences[state.subject.id or 0]
        days = collect[state.subject.id or 0]
        bookings = booked.get(state.subject.id or 0, {}) if state.site.id in booking_sites else None
        link = _taken_link(settings, state) if state.subject.id in tapping else None
        for item in wanted_reminders(
            state.plan(), now, settings, days, state.subject.language, bookings, link
        ):
            key = idempotency_key(
                item.kind,
                state.subject.code,
                item.item_key,
                item.due_at,
                preference.channel,
                preference.address,
            )
            wanted[key] = (state, preference, item)
    # Every write below is conditional on the status it read: a worker may mark a row sent
    # between this read and the write, and a sent row keeps its record.
    unwanted = [row.id for key, row in by_key.items() if key not in wanted]
    if unwanted:
        # A pending row past its grace is no longer wanted for that reason alone: it is
        # expired, as the dispatcher would mark it, so a restart reads the same whichever of
        # the refresh and the first poll runs first.
        stale = and_(col(Reminder.status) == "pending", col(Reminder.expires_at) <= now)
        session.execute(
            update(Reminder)
            .where(col(Reminder.id).in_(unwanted), col(Reminder.status).in_(OPEN_STATUSES))
            # claimed_by stays: should its worker have been sending at this very moment, it
            # records that the message went out after all (see reminder_dispatch).
            .values(status=case((stale, "expired"), else_="cancelled"), updated_at=now),
            execution_options={"synchronize_session": False},
        )
    for key, row in by_key.items():
        if key not in wanted:
            continue
        item = wanted[key][2]
        if (row.body, row.title, row.expires_at) != (item.body, item.title, item.expires_at):
            session.execute(
                update(Reminder)
                .where(col(Reminder.id) == row.id, col(Reminder.status).in_(OPEN_STATUSES))
                .values(
                    body=item.body, title=item.title, expires_at=item.expires_at, updated_at=now
                ),
                execution_options={"synchronize_session": False},
            )
    missing = [key for key in wanted if key not in by_key]
    if not missing:
        return
    # A key seen before: revive it if it was cancelled, with what the plan says now (a dose
    # held, then resumed at a lower level, keeps its time but not its strength); anything else
    # (sent, expired, failed, in flight) keeps its row and its fate.
    reminders = Reminder.__table__  # type: ignore[attr-defined]
    session.execute(
        update(reminders)
        .where(reminders.c.idempotency_key == bindparam("key"), reminders.c.status == "cancelled")
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=reminders.c.due_at,
            claimed_by=None,
            claimed_until=None,
            last_error=None,
            updated_at=now,
            body=bindparam("new_body"),
            title=bindparam("new_title"),
            expires_at=bindparam("new_expires_at"),
        ),
        [
            {
                "key": key,
                "new_body": wanted[key][2].body,
                "new_title": wanted[key][2].title,
                "new_expires_at": wanted[key][2].expires_at,
            }
            for key in missing
        ],
    )
    insert_ignoring_duplicates(
        session,
        [
            _row(key, state, preference, item, now)
            for key, (state, preference, item) in wanted.items()
            if key in set(missing)
        ],
    )


def _taken_link(settings: Settings, state: SubjectState) -> TakenLink:
    subject_id = state.subject.id or 0

    def link(slot: DoseSlot, expires_at: datetime) -> str:
        return one_tap.tap_url(settings, subject_id, slot.key, expires_at)

    return link


def _row(
    key: str, state: SubjectState, preference: ReminderPreference, item: Wanted, now: datetime
) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "subject_id": state.subject.id,
        "site_id": state.site.id,
        "item_key": item.item_key,
        "due_at": item.due_at,
        "expires_at": item.expires_at,
        "channel": preference.channel,
        "address": preference.address,
        "idempotency_key": key,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": item.due_at,
        "title": item.title,
        "body": item.body,
        "created_at": now,
        "updated_at": now,
    }


def _choice(preference: ReminderPreference | None) -> dict[str, Any] | None:
    if preference is None:
        return None
    return {
        "opted_in": preference.opted_in,
        "channel": preference.channel,
        "address": preference.address,
    }


def set_preference(
    unit: Unit, code: str, *, opted_in: bool, channel: str | None = None, address: str | None = None
) -> ReminderPreference:
    """Opt a subject in (with channel and address) or out. Audited; the subject's reminders are
    re-derived in the same transaction by the refresher."""
    subject = get_subject(unit.session, code)
    preference = unit.session.exec(
        select(ReminderPreference).where(ReminderPreference.subject_id == subject.id)
    ).first()
    old = _choice(preference)
    if opted_in:
        if channel is None or address is None:
            raise InputError("channel", "opting in needs a channel and an address")
        address = check_address(channel, address)
    elif preference is None or not preference.opted_in:
        raise InputError("subject", f"{code} has not opted in to reminders")
    else:
        channel, address = preference.channel, preference.address
    if preference is None:
        preference = ReminderPreference(
            subject_id=subject.id or 0,
            opted_in=opted_in,
            channel=channel or "",
            address=address or "",
            updated_at=unit.now,
            updated_by=unit.actor,
        )
    else:
        preference.opted_in = opted_in
        preference.channel, preference.address = channel or "", address or ""
        preference.updated_at, preference.updated_by = unit.now, unit.actor
    unit.session.add(preference)
    unit.session.flush()
    unit.audit(
        "reminders.opt_in" if opted_in else "reminders.opt_out",
        entity="reminderpreference",
        entity_id=preference.id,
        subject_id=subject.id,
        old=old,
        new=_choice(preference),
    )
    return preference


@dataclass(frozen=True, slots=True)
class PreferenceSummary:
    """What the subject page and the API show of a patient's choice. ``channel`` and
    ``address`` stay after an opt-out: they say where reminders went, and opting in again
    starts from them."""

    opted_in: bool
    channel: str | None
    address: str | None
    pending: int
    """Reminders queued and not yet sent (pending, or claimed by a worker sending them)."""
    updated_at: datetime | None
    updated_by: str | None


MANAGES_REMINDERS = ("nurse", "investigator")
"""The roles that opt patients in and out of reminders, and so see their addresses."""
HIDDEN_ADDRESS = "(hidden)"


def preference_summary(session: Session, code: str, *, viewer_role: str) -> PreferenceSummary:
    """The subject's reminder choice and how many of their reminders are still to be sent;
    one indexed count (``ix_reminder_subject_id_status``), cheap enough for every page view.
    The address is a patient's contact detail: shown only to the roles in
    ``MANAGES_REMINDERS``."""
    subject = get_subject(session, code)
    preference = session.exec(
        select(ReminderPreference).where(ReminderPreference.subject_id == subject.id)
    ).first()
    pending = session.exec(
        select(func.count())
        .select_from(Reminder)
        .where(
            Reminder.subject_id == subject.id,
            col(Reminder.kind).in_(PATIENT_KINDS),
            col(Reminder.status).in_(OPEN_STATUSES),
        )
    ).one()
    if preference is None:
        return PreferenceSummary(False, None, None, pending, None, None)
    return PreferenceSummary(
        opted_in=preference.opted_in,
        channel=preference.channel,
        address=preference.address if viewer_role in MANAGES_REMINDERS else HIDDEN_ADDRESS,
        pending=pending,
        updated_at=preference.updated_at,
        updated_by=preference.updated_by,
    )


@dataclass(frozen=True)
class Failure:
    id: int
    kind: str
    owner: str
    item_key: str
    channel: str
    attempts: int
    status: str
    last_error: str
    updated_at: datetime
    next_attempt_at: datetime
    """For a row still retrying: when the next attempt is due."""

    @property
    def state(self) -> str:
        return "given up" if self.status == "failed" else "retrying"


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[str, int]
    failures: tuple[Failure, ...]
    """Rows that gave up, and pending rows whose last attempt failed (retrying)."""
    next_due: datetime | None


def _visible(session: Session) -> ColumnElement[bool]:
    """Reminders of the subjects at the sites the session may see; staff digests, which belong
    to no subject, only for a study-wide account."""
    scope = site_scope(session)
    if scope is None:
        return true()
    return col(Reminder.subject_id).in_(
        select(Subject.id).where(col(Subject.site_id).in_(sorted(scope)))
    )


def outbox_status(session: Session, *, limit: int = 50) -> OutboxStatus:
    counts = dict.fromkeys(REMINDER_STATUSES, 0)
    visible = _visible(session)
    for status, count in session.exec(
        select(Reminder.status, func.count()).where(visible).group_by(col(Reminder.status))
    ):
        counts[status] = count
    rows = session.exec(
        select(Reminder, Subject.code)
        .join(Subject, col(Reminder.subject_id) == col(Subject.id), isouter=True)
        .where(
            visible,
            (col(Reminder.status) == "failed")
            | ((col(Reminder.status) == "pending") & col(Reminder.last_error).is_not(None)),
        )
        .order_by(col(Reminder.updated_at).desc(), col(Reminder.id).desc())
        .limit(limit)
    )
    failures = tuple(
        Failure(
            id=r.id or 0,
            kind=r.kind,
            owner=code or r.item_key,
            item_key=r.item_key,
            channel=r.channel,
            attempts=r.attempts,
            status=r.status,
            last_error=r.last_error or "",
            updated_at=r.updated_at,
            next_attempt_at=r.next_attempt_at,
        )
        for r, code in rows
    )
    next_due = session.exec(
        select(func.min(Reminder.next_attempt_at)).where(visible, Reminder.status == "pending")
    ).one()
    return OutboxStatus(counts, failures, next_due)


def subjects_to_refresh(session: Session, site_id: int | None = None) -> list[int]:
    """Subjects (of one site) who want reminders: the daily job re-derives theirs (the horizon
    moves, and an open hold moves the plan day by day)."""
    query = select(ReminderPreference.subject_id).where(col(ReminderPreference.opted_in))
    if site_id is not None:
        query = query.join(Subject, col(Subject.id) == ReminderPreference.subject_id).where(
            Subject.site_id == site_id
        )
    return list(session.exec(query))
