"""The patient reports' projection: worklist lines derived from what patients reported,
rewritten whenever a unit of work changes the subject (``scheduler.app.bootstrap``).

- ``patient_bp``: a reported home blood pressure at or above ``[labs.home_bp] alert_at`` on a
  day the rule covers (``scheduler.core.lab_rules.home_bp_alert``, the rule the staff's home
  readings follow), listed from its day until a nurse reviews the report;
- ``patient_not_taken``: a dose the patient reported not taken, listed from its day until
  reviewed;
- ``patient_unreported``: for a subject who opted in, a dose neither reported nor recorded by
  the end of its dosing day. The patient's dosing day ends when the dose can no longer be taken
  (``[limits] late_dose_hours`` after the dose time, at the latest midnight): the line is
  listed from that instant on the same day and for ``UNREPORTED_DAYS`` days, until a report or a
  record of the dose removes it. Rows are written ahead for every dose of the plan from the
  day the link was issued; the worklist compares ``listed_from`` with the time it is read, so
  no row depends on the day it was derived.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, exists, insert
from sqlmodel import col, select

from scheduler.core.lab_rules import home_bp_alert
from scheduler.core.times import local_instant
from scheduler.kernel.subject_state import SubjectState
from scheduler.kernel.unit import Unit
from scheduler.models import PatientLink, PatientReport, PatientReview, PatientWorkItem
from scheduler.patients.reports import BLOOD_PRESSURE, DOSE

UNREPORTED_DAYS = 3
"""An unreported dose is listed on its day and the two after, like a missed dose."""


def _end_of_dosing_day(state: SubjectState, day: Any, at: time) -> datetime:
    zone = state.anchors.time_zone
    late = local_instant(day, at, zone) + timedelta(hours=state.protocol.limits.late_dose_hours)
    midnight = local_instant(day + timedelta(days=1), time(0, 0), zone)
    return min(late, midnight)


def _cycle_of(state: SubjectState, day: Any) -> int | None:
    return next((c.number for c in state.plan().cycles if c.day1 <= day <= c.end), None)


def _report_items(state: SubjectState, reports: list[PatientReport]) -> list[dict[str, Any]]:
    rules = state.protocol.labs
    home = rules.home_bp if rules is not None else None
    items = []
    for row in reports:
        if row.kind == BLOOD_PRESSURE and home is not None:
            cycle = _cycle_of(state, row.report_date)
            if home_bp_alert(home, cycle, row.systolic, row.diastolic):
                items.append(
                    {
                        "kind": "patient_bp",
                        "what": "reported blood pressure",
                        "detail": f"{row.systolic}/{row.diastolic} mmHg reported by the patient "
                        f"on {row.report_date} (alert at {home.alert_at.systolic:g}/"
                        f"{home.alert_at.diastolic:g}); confirm or correct it",
                        "shown_from": row.report_date,
                        "shown_until": None,
                        "listed_from": row.recorded_at,
                    }
                )
        elif row.kind == DOSE and row.taken is False:
            items.append(
                {
                    "kind": "patient_not_taken",
                    "what": "dose not taken",
                    "detail": f"the patient reported the dose of {row.report_date} not taken; "
                    "confirm or correct it",
                    "shown_from": row.report_date,
                    "shown_until": None,
                    "listed_from": row.recorded_at,
                }
            )
    return items


def _unreported_items(
    state: SubjectState, link: PatientLink, reported: set[tuple[Any, int]]
) -> list[dict[str, Any]]:
    first = link.created_at.astimezone(state.anchors.time_zone).date()
    items = []
    for slot in state.plan().doses():
        if slot.date < first or slot.status != "planned" or slot.tentative:
            continue
        if (slot.date, slot.slot) in reported:
            continue
        items.append(
            {
                "kind": "patient_unreported",
                "what": "no dose report",
                "detail": f"no report of the dose of {slot.date} ({slot.key}) by the end of "
                "the dosing day",
                "shown_from": slot.date,
                "shown_until": slot.date + timedelta(days=UNREPORTED_DAYS - 1),
                "listed_from": _end_of_dosing_day(state, slot.date, slot.time),
            }
        )
    return items


_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_DELETE = delete(PatientWorkItem).where(col(PatientWorkItem.subject_id).in_(_IDS))
_REPORTS = (
    select(
        PatientReport,
        exists().where(col(PatientReview.report_id) == col(PatientReport.id)).label("reviewed"),
    )
    .where(col(PatientReport.subject_id).in_(_IDS))
    .order_by(col(PatientReport.id))
)
_LINKS = (
    select(PatientLink).where(col(PatientLink.subject_id).in_(_IDS)).order_by(col(PatientLink.id))
)
"""Built once: on a write, building the statements cost more than running them."""


def refresh_patient_items(unit: Unit, subject_states: Sequence[SubjectState]) -> None:
    """A subject who never had a link has no reports (a report comes through a link) and so no
    items; links are withdrawn, never deleted. Most subjects are such, and cost one query."""
    ids = [s.subject.id for s in subject_states if s.subject.id is not None]
    if not ids:
        return
    session = unit.session
    links = list(session.exec(_LINKS, params={"ids": ids}))
    linked = sorted({link.subject_id for link in links})
    if not linked:
        return
    session.execute(_DELETE, {"ids": linked})
    reports: dict[int, list[PatientReport]] = {}
    reviewed: set[int | None] = set()
    for row, was_reviewed in session.execute(_REPORTS, {"ids": linked}):
        reports.setdefault(row.subject_id, []).append(row)
        if was_reviewed:
            reviewed.add(row.id)
    alerting = {
        link.subject_id: link for link in links if link.revoked_at is None and link.alert_unreported
    }
    values = []
    for state in subject_states:
        sid = state.subject.id or 0
        if sid not in linked:
            continue
        mine = reports.get(sid, [])
        found = _report_items(state, [r for r in mine if r.id not in reviewed])
        link = alerting.get(sid)
        if link is not None:
            done = {(r.report_date, r.slot) for r in mine if r.kind == DOSE}
            found += _unreported_items(state, link, done)
        key = {"subject_id": sid, "site_id": state.site.id or 0}
        values += [key | item for item in found]
    if values:
        session.execute(insert(PatientWorkItem.__table__), values)  # type: ignore[attr-defined]
