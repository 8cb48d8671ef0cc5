"""Enrollment, anchors, and a subject's plan as of now.

``SubjectState`` bundles what every command about one subject needs: the rows, the protocol, the
core anchors, the history and the site-local date. ``with_history`` is how a command validates a
change before storing it: the core must accept the history with the new record added.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from scheduler import core
from scheduler.clock import local_today
from scheduler.errors import Conflict, InputError, NotFound
from scheduler.models import ProtocolVersion, Site, Subject
from scheduler.protocols import DEFAULT_PROTOCOL_ID, Protocol
from scheduler.services.histories import load_histories
from scheduler.services.protocols import latest_version, protocol_of
from scheduler.services.sites import get_site
from scheduler.services.unit import Unit
from scheduler.services.validation import (
    check_code,
    check_text,
    check_zone,
    parse_date,
    parse_time,
)


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
        return core.build_plan(self.protocol, self.anchors, self.history, self.today)

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


def get_subject(session: Session, code: str) -> Subject:
    check_code("subject", code)
    subject = session.exec(select(Subject).where(Subject.code == code)).first()
    if subject is None:
        raise NotFound("subject", f"no subject {code!r}")
    return subject


def states(session: Session, subjects: list[Subject], now: datetime) -> list[SubjectState]:
    """States for many subjects with a fixed number of queries."""
    if not subjects:
        return []
    histories = load_histories(session, [s.id for s in subjects if s.id is not None])
    sites = {
        s.id: s
        for s in session.exec(select(Site).where(col(Site.id).in_({x.site_id for x in subjects})))
    }
    versions = {
        v.id: v
        for v in session.exec(
            select(ProtocolVersion).where(
                col(ProtocolVersion.id).in_({x.protocol_version_id for x in subjects})
            )
        )
    }
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


def _check_dose_time(protocol: Protocol, field: str, dose_time: time) -> None:
    schedule = protocol.schedule
    span_h = (schedule.administrations_per_day - 1) * schedule.administration_interval_hours
    if dose_time.hour + span_h >= 24:
        raise InputError(
            field,
            f"with {schedule.administrations_per_day} doses "
            f"{schedule.administration_interval_hours} h apart the first must be before "
            f"{24 - span_h:02d}:00 so all fall on one day",
        )


def enroll(
    unit: Unit,
    code: str,
    *,
    c1d1: str | date,
    surgery: str | date,
    site_code: str | None = None,
    time_zone: str | None = None,
    dose_time: str | time | None = None,
    protocol_id: str | None = None,
    default_site: Site | None = None,
) -> Subject:
    code = check_code("subject", code)
    first_day = parse_date("c1d1", c1d1)
    surgery_day = parse_date("surgery", surgery)
    if first_day <= surgery_day:
        raise InputError(
            "c1d1", f"{first_day} must be after the surgery date {surgery_day} (adjuvant therapy)"
        )
    if unit.session.exec(select(Subject).where(Subject.code == code)).first() is not None:
        raise Conflict("subject", f"{code!r} is already enrolled")
    if site_code is not None:
        site = get_site(unit.session, check_code("site", site_code))
    elif default_site is not None:
        site = default_site
    else:
        raise InputError("site", "no site given and no default site exists; run `dosing init`")
    version = latest_version(unit.session, protocol_id or DEFAULT_PROTOCOL_ID)
    protocol = protocol_of(version)
    zone = check_zone("tz", time_zone or site.time_zone)
    at = parse_time("dose_time", dose_time) if dose_time is not None else None
    at = at or protocol.schedule.default_dose_time
    _check_dose_time(protocol, "dose_time", at)
    subject = Subject(
        code=code,
        site_id=site.id or 0,
        protocol_version_id=version.id or 0,
        c1d1=first_day,
        surgery_date=surgery_day,
        time_zone=zone,
        dose_time=at,
        enrolled_at=unit.now,
        enrolled_by=unit.actor,
    )
    unit.session.add(subject)
    unit.session.flush()
    unit.audit(
        "subject.enroll",
        entity="subject",
        entity_id=subject.id,
        subject_id=subject.id,
        new={
            "code": code,
            "site": site.code,
            "protocol": f"{version.protocol_id} v{version.version}",
            "c1d1": first_day,
            "surgery": surgery_day,
            "time_zone": zone,
            "dose_time": at.strftime("%H:%M"),
        },
    )
    return subject


ANCHOR_FIELDS = ("c1d1", "surgery", "tz", "dose_time")


def change_anchor(unit: Unit, code: str, field: str, value: str, reason: str) -> core.Plan:
    """Correct an anchor. The plan is re-derived and must still hold every recorded fact."""
    reason = check_text("reason", reason, required=True)
    state = subject_state(unit.session, code, unit.now)
    subject = state.subject
    old: object
    if field == "c1d1":
        new_date = parse_date("c1d1", value)
        if new_date <= subject.surgery_date:
            raise InputError("c1d1", f"{new_date} must be after the surgery date")
        old, subject.c1d1 = subject.c1d1, new_date
    elif field == "surgery":
        new_date = parse_date("surgery", value)
        if new_date >= subject.c1d1:
            raise InputError("surgery", f"{new_date} must be before C1D1 {subject.c1d1}")
        old, subject.surgery_date = subject.surgery_date, new_date
    elif field == "tz":
        old, subject.time_zone = subject.time_zone, check_zone("tz", value)
    elif field == "dose_time":
        at = parse_time("dose_time", value)
        _check_dose_time(state.protocol, "dose_time", at)
        old, subject.dose_time = subject.dose_time, at
    else:
        raise InputError("field", f"{field!r} is not an anchor ({', '.join(ANCHOR_FIELDS)})")
    plan = core.build_plan(
        state.protocol,
        anchors_of(subject),
        state.history,
        local_today(unit.now, subject.time_zone),
    )
    unit.session.add(subject)
    unit.audit(
        f"subject.change_{field}",
        entity="subject",
        entity_id=subject.id,
        subject_id=subject.id,
        old=old,
        new=value,
        reason=reason,
    )
    return plan


def all_subjects(session: Session, site_code: str | None = None) -> list[Subject]:
    query = select(Subject).order_by(col(Subject.code))
    if site_code is not None:
        site = get_site(session, site_code)
        query = query.where(Subject.site_id == site.id)
    return list(session.exec(query).all())
