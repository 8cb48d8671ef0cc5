"""Enrollment, anchors, and a subject's plan as of now.

``SubjectState`` bundles what every command about one subject needs: the rows, the protocol, the
core anchors, the history and the site-local date. ``with_history`` is how a command validates a
change before storing it: the core must accept the history with the new record added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, bindparam
from sqlmodel import Session, col, select

from scheduler import core
from scheduler.clock import local_today
from scheduler.errors import NotFound
from scheduler.kernel.histories import load_histories
from scheduler.kernel.protocol_versions import protocol_of
from scheduler.kernel.sites import get_site, in_scope, site_scope
from scheduler.kernel.validation import (
    check_code,
)
from scheduler.models import ProtocolVersion, Site, Subject
from scheduler.protocols import Protocol

LOCKS_SUBJECTS = "locks_subjects"
"""Set on a unit of work's session: the subjects it reads are the ones it may write, so it takes
each one's row lock (PostgreSQL) as it first reads it. Writers of one subject then queue at that
lock instead of meeting later at foreign-key and derived-row locks in opposite orders, which
deadlocked; SQLite's units hold the database's write lock from their start instead."""


@dataclass(frozen=True)
class SubjectState:
    subject: Subject
    site: Site
    version: ProtocolVersion
    protocol: Protocol
    anchors: core.Anchors
    history: core.History
    today: date

    def plan(self) -> core.Plan:
        """Built once per state: every projection of a write reads it (the state and the core's
        plan are both immutable)."""
        built: core.Plan | None = self.__dict__.get("_plan")
        if built is None:
            built = core.build_plan(self.protocol, self.anchors, self.history, self.today)
            object.__setattr__(self, "_plan", built)
        return built

    def with_history(self, **changes: Any) -> core.Plan:
        """The plan with records added or removed; raises if the core refuses the history."""
        return core.build_plan(
            self.protocol, self.anchors, replace(self.history, **changes), self.today
        )


def anchors_of(subject: Subject) -> core.Anchors:
    return core.Anchors(
        subject=subject.code,
        c1d1=subject.c1d1,
        surgery=subject.surgery_date,
        time_zone=ZoneInfo(subject.time_zone),
        dose_time=subject.dose_time,
    )


_BY_CODE = (
    select(Subject, Site, ProtocolVersion)
    .join(Site, col(Site.id) == col(Subject.site_id))
    .join(ProtocolVersion, col(ProtocolVersion.id) == col(Subject.protocol_version_id))
    .where(Subject.code == bindparam("code"))
)
_BY_CODE_LOCKED = _BY_CODE.with_for_update(of=Subject)
"""Built once: on a write, building the statements cost more than running them. The subject
comes with its site and protocol version, which every command about it reads next."""


LOCKED = "kernel.subject_state.locked"
"""On a session that locks subjects: the subjects it locked, by id. The unit's refresh reads
them from here instead of selecting and locking them a second time."""


def get_subject(session: Session, code: str) -> Subject:
    check_code("subject", code)
    locks = bool(session.info.get(LOCKS_SUBJECTS))
    found = session.exec(_BY_CODE_LOCKED if locks else _BY_CODE, params={"code": code}).first()
    if found is None or not in_scope(session, found[0].site_id):
        raise NotFound("subject", f"no subject {code!r}")
    subject, site, version = found
    kept = session.info.setdefault(_KEPT, {})
    kept.setdefault(Site, {}).setdefault(site.id, site)
    kept.setdefault(ProtocolVersion, {}).setdefault(version.id, version)
    if locks:
        session.info.setdefault(LOCKED, {})[subject.id] = subject
    return subject


_KEPT = "kernel.subject_state.kept"
_Kept = TypeVar("_Kept", Site, ProtocolVersion)
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_BY_ID: dict[type[Any], Any] = {
    model: select(model).where(col(model.id).in_(_IDS)) for model in (Site, ProtocolVersion)
}


def _kept(session: Session, model: type[_Kept], ids: set[int]) -> dict[int, _Kept]:
    """Rows by id, kept for the session: a write reads its subject's state, then the
    projections read it once more under the lock, and the session's own identity map holds
    rows only while something else refers to them."""
    kept: dict[int, Any] = session.info.setdefault(_KEPT, {}).setdefault(model, {})
    missing = ids - kept.keys()
    if missing:
        for row in session.exec(_BY_ID[model], params={"ids": sorted(missing)}):
            kept[row.id or 0] = row
    return {i: kept[i] for i in ids}


def states(
    session: Session,
    subjects: list[Subject],
    now: datetime,
    known: Mapping[int, core.History] | None = None,
) -> list[SubjectState]:
    """States for many subjects with a fixed number of queries; the histories in ``known``
    (by subject id) are taken as they are instead of loaded."""
    if not subjects:
        return []
    known = known or {}
    histories = dict(known)
    histories.update(
        load_histories(session, [s.id for s in subjects if s.id is not None and s.id not in known])
    )
    sites = _kept(session, Site, {x.site_id for x in subjects})
    versions = _kept(session, ProtocolVersion, {x.protocol_version_id for x in subjects})
    result = []
    for subject in subjects:
        version = versions[subject.protocol_version_id]
        result.append(
            SubjectState(
                subject=subject,
                site=sites[subject.site_id],
                version=version,
                protocol=protocol_of(version),
                anchors=anchors_of(subject),
                history=histories[subject.id or 0],
                today=local_today(now, subject.time_zone),
            )
        )
    return result


def subject_state(session: Session, code: str, now: datetime) -> SubjectState:
    return states(session, [get_subject(session, code)], now)[0]


def plan_for(session: Session, code: str, now: datetime) -> core.Plan:
    return subject_state(session, code, now).plan()


def all_subjects(session: Session, site_code: str | None = None) -> list[Subject]:
    """The subjects of ``site_code``, or of every site the session may see."""
    query = select(Subject).order_by(col(Subject.code))
    scope = site_scope(session)
    if site_code is not None:
        site = get_site(session, site_code)
        query = query.where(Subject.site_id == site.id)
    elif scope is not None:
        query = query.where(col(Subject.site_id).in_(scope))
    return list(session.exec(query).all())
