"""Enrolment and corrections of a subject's anchors: the dates and time the whole plan hangs on."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from sqlmodel import select

from scheduler import core
from scheduler.clock import local_today
from scheduler.errors import Conflict, InputError
from scheduler.kernel.protocol_versions import latest_version, protocol_of
from scheduler.kernel.sites import get_site
from scheduler.kernel.subject_state import anchors_of, subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import (
    check_code,
    check_text,
    check_zone,
    parse_date,
    parse_time,
)
from scheduler.models import Site, Subject
from scheduler.protocols import DEFAULT_PROTOCOL_ID, Protocol
from scheduler.subjects.languages import check_language

RESERVED_CODES = frozenset({"new"})
"""Codes a subject cannot take because a page's address would shadow its own
(``/subjects/new`` is the enrolment form)."""


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
    surgery: str | date | None = None,
    site_code: str | None = None,
    time_zone: str | None = None,
    dose_time: str | time | None = None,
    protocol_id: str | None = None,
    default_site: Site | None = None,
    reason: str = "",
    language: str | None = None,
) -> Subject:
    """Enrol a subject under the latest version of the protocol.

    Dates the protocol does not allow (surgery to C1D1 outside ``[enrolment]``) are the
    investigator's documented decision: they need ``reason`` and are audited as a deviation.
    Dates that cannot be right (a follow-up before screening) are refused whatever the reason.
    """
    code = check_code("subject", code)
    if code.casefold() in RESERVED_CODES:
        raise InputError(
            "subject", f"{code!r} names a page of the app (/subjects/{code}): choose another code"
        )
    first_day = parse_date("c1d1", c1d1)
    surgery_day = parse_date("surgery", surgery) if surgery not in (None, "") else None
    if surgery_day is not None and first_day <= surgery_day:
        raise InputError(
            "c1d1", f"{first_day} must be after the surgery date {surgery_day} (adjuvant therapy)"
        )
    reason = check_text("reason", reason, required=False)
    if unit.session.exec(select(Subject).where(Subject.code == code)).first() is not None:
        raise Conflict("subject", f"{code!r} is already enrolled")
    if site_code is not None:
        site = get_site(unit.session, check_code("site", site_code))
    elif default_site is not None:
        site = default_site
    else:
        raise InputError("site", "no site given and no default site exists; run `dosing init`")
    if protocol_id is not None:
        check_code("protocol", protocol_id)
    version = latest_version(
        unit.session, DEFAULT_PROTOCOL_ID if protocol_id is None else protocol_id
    )
    protocol = protocol_of(version)
    if surgery_day is None and protocol.needs_surgery:
        raise InputError(
            "surgery",
            f"{protocol.id} counts visits or enrolment from the surgery date: give --surgery",
        )
    # Left out means the site's zone; given but empty is a mistake, not a request for it.
    zone = check_zone("tz", site.time_zone if time_zone is None else time_zone)
    at = parse_time("dose_time", dose_time) if dose_time is not None else None
    at = at or protocol.schedule.default_dose_time
    _check_dose_time(protocol, "dose_time", at)
    chosen = check_language(site.language if language is None else language)
    anchors = core.Anchors(
        subject=code,
        c1d1=first_day,
        surgery=surgery_day,
        time_zone=ZoneInfo(zone),
        dose_time=at,
    )
    _no_follow_up_before_screening(
        core.build_plan(protocol, anchors, core.History(), local_today(unit.now, zone))
    )
    deviation = _surgery_interval_deviation(protocol, first_day, surgery_day)
    if deviation and not reason:
        raise InputError(
            "reason", f"{deviation}: give --reason (the investigator's decision to enrol)"
        )
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
        language=chosen,
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
            "language": chosen,
        },
        reason=reason,
    )
    if deviation:
        unit.audit(
            "subject.enrolment_deviation",
            entity="subject",
            entity_id=subject.id,
            subject_id=subject.id,
            new={"deviation": deviation},
            reason=reason,
        )
    return subject


def _surgery_interval_deviation(
    protocol: Protocol, first_day: date, surgery_day: date | None
) -> str:
    """``[enrolment]``: how C1D1 misses the protocol's interval after the surgery ("" when it
    does not, or the protocol sets none)."""
    rule = protocol.enrolment
    if rule is None or surgery_day is None:
        return ""
    days = (first_day - surgery_day).days
    low, high = rule.surgery_to_c1d1_min_days, rule.surgery_to_c1d1_max_days
    if low <= days <= high:
        return ""
    return (
        f"C1D1 {first_day} is {days} days after the surgery on {surgery_day}; "
        f"{protocol.id} allows {low}-{high} days"
    )


def _no_follow_up_before_screening(plan: core.Plan) -> None:
    """A visit counted from the surgery may never fall before screening: such dates put a
    follow-up scan before the subject was even assessed for the trial."""
    cycle_visits = [v for v in plan.visits if v.anchor == "cycle"]
    if not cycle_visits:
        return
    screening = min(cycle_visits, key=lambda v: v.window_start)
    for visit in plan.visits:
        if visit.anchor == "surgery" and visit.target < screening.window_start:
            raise InputError(
                "surgery",
                f"{plan.anchors.surgery} puts {visit.name} ({visit.code}, {visit.target}) "
                f"before {screening.name} ({screening.window_start}): check both dates",
            )


ANCHOR_FIELDS = ("c1d1", "surgery", "tz", "dose_time")


def change_anchor(unit: Unit, code: str, field: str, value: str, reason: str) -> core.Plan:
    """Correct an anchor. The plan is re-derived and must still hold every recorded fact."""
    reason = check_text("reason", reason, required=True)
    state = subject_state(unit.session, code, unit.now)
    subject = state.subject
    old: object
    if field == "c1d1":
        new_date = parse_date("c1d1", value)
        if subject.surgery_date is not None and new_date <= subject.surgery_date:
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
    if field in ("c1d1", "surgery"):
        _no_follow_up_before_screening(plan)
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
