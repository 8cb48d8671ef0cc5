"""What the patient page shows, and the side-by-side panel of the subject page.

The patient page shows one subject's own data and no more: today's doses (to report, "taken at
...", "not taken", or paused), whether today asks for a home blood pressure and the one
reported, the next appointment and the team's phone number. Never the subject code, the drug's
name, a diagnosis or another subject's anything: the page is behind a link a phone may show
to whoever holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from sqlmodel import Session

from scheduler.appointments.booking import bookings_of
from scheduler.appointments.clinics import sites_with_clinic
from scheduler.core.accountability import ReportCounts
from scheduler.core.appointments import booking_stands
from scheduler.core.outputs import TAKEN
from scheduler.core.plan import STOPPED
from scheduler.kernel.subject_state import SubjectState
from scheduler.labs.history import current_rows
from scheduler.models import PatientReport, PatientReview
from scheduler.patients.counts import dose_report_counts
from scheduler.patients.links import LinkStatus
from scheduler.patients.reports import BLOOD_PRESSURE, DOSE, reading_asked, reports_of
from scheduler.patients.reviews import reviews_of
from scheduler.settings import Settings


@dataclass(frozen=True)
class TodayDose:
    slot: int
    at: time
    dose_mg: float
    state: str
    """``to_report``, ``taken`` (``taken_at`` set), ``not_taken`` or ``paused``."""
    taken_at: time | None = None


@dataclass(frozen=True)
class Appointment:
    """The next appointment as the patient reads it: the booked day and time where the site
    books appointments and the booking still stands; otherwise the plan's target date without
    a time, which the team confirms (``booked`` False: to be booked, or booked on a day the
    plan has since moved away from, never shown as if it still held)."""

    on: date
    name: str
    at: time | None = None
    place: str = ""


@dataclass(frozen=True)
class PatientPage:
    today: date
    doses: tuple[TodayDose, ...]
    reading_asked: bool
    reading: tuple[int, int] | None
    appointment: Appointment | None
    phone: str
    language: str
    ended: bool
    """The treatment is over (completed or stopped): nothing more to report."""


def next_appointment(session: Session, state: SubjectState) -> Appointment | None:
    plan = state.plan()
    sid = state.subject.id or 0
    books = bool(sites_with_clinic(session, [state.site.id or 0]))
    bookings = (
        bookings_of(session, [sid], {state.site.id or 0: state.site}).get(sid, {}) if books else {}
    )
    for visit in plan.visits:
        if visit.status not in ("planned", "due") or visit.window_end < plan.today:
            continue
        text = plan.protocol.visit_text(visit.code, state.subject.language)
        name = text.name if text else visit.name
        booking = bookings.get(visit.code)
        if booking_stands(visit, booking) and booking is not None and booking.on >= plan.today:
            return Appointment(on=booking.on, name=name, at=booking.at, place=booking.place)
        if visit.target >= plan.today:
            return Appointment(on=visit.target, name=name)
    return None


def patient_page(session: Session, state: SubjectState, settings: Settings) -> PatientPage:
    plan = state.plan()
    sid = state.subject.id or 0
    reports = [r for r in reports_of(session, sid) if r.report_date == plan.today]
    dose_reports = {r.slot: r for r in reports if r.kind == DOSE}
    reading = next((r for r in reports if r.kind == BLOOD_PRESSURE), None)
    doses = []
    for slot in plan.doses():
        if slot.date != plan.today or slot.status == "cancelled":
            continue
        report = dose_reports.get(slot.slot)
        if slot.status == "held":
            doses.append(TodayDose(slot.slot, slot.time, slot.dose_mg, "paused"))
        elif report is not None and report.taken:
            doses.append(TodayDose(slot.slot, slot.time, slot.dose_mg, "taken", report.taken_at))
        elif report is not None:
            doses.append(TodayDose(slot.slot, slot.time, slot.dose_mg, "not_taken"))
        elif slot.status in TAKEN:
            doses.append(TodayDose(slot.slot, slot.time, slot.dose_mg, "taken", slot.taken_at))
        elif slot.status == "missed":
            doses.append(TodayDose(slot.slot, slot.time, slot.dose_mg, "not_taken"))
        else:
            doses.append(TodayDose(slot.slot, slot.time, slot.dose_mg, "to_report"))
    return PatientPage(
        today=plan.today,
        doses=tuple(doses),
        reading_asked=reading_asked(state, plan.today),
        reading=(reading.systolic or 0, reading.diastolic or 0) if reading else None,
        appointment=next_appointment(session, state),
        phone=state.site.phone or settings.clinic_phone,
        language=state.subject.language,
        ended=plan.status == "completed" or plan.status in STOPPED,
    )


@dataclass(frozen=True)
class ReportLine:
    """One report beside the verified record of the same dose or day."""

    report: PatientReport
    review: PatientReview | None
    verified: str
    """What staff records say of it: "taken 07:10", "missed", "150/95", or "" (nothing yet)."""


@dataclass(frozen=True)
class Panel:
    """The subject page's view of the patient page: the link, the reports side by side with
    the verified records, and the counts."""

    link: LinkStatus
    lines: tuple[ReportLine, ...]
    counts: ReportCounts

    @property
    def waiting(self) -> list[ReportLine]:
        return [line for line in self.lines if line.review is None]


def _verified_dose(state: SubjectState, report: PatientReport) -> str:
    for slot in state.plan().doses():
        if (slot.date, slot.slot) == (report.report_date, report.slot):
            if slot.status in TAKEN:
                return f"taken {slot.taken_at:%H:%M}" if slot.taken_at else "taken"
            if slot.status == "missed":
                return "missed"
            return ""
    return ""


def _verified_readings(session: Session, state: SubjectState) -> dict[date, str]:
    pairs: dict[date, dict[str, float]] = {}
    for row in current_rows(session, state.subject.id or 0):
        if row.source == "home" and row.test in ("SBP", "DBP"):
            pairs.setdefault(row.taken_on, {})[row.test] = row.value
    return {day: f"{pair.get('SBP', 0):g}/{pair.get('DBP', 0):g}" for day, pair in pairs.items()}


def panel(session: Session, state: SubjectState, link: LinkStatus) -> Panel:
    sid = state.subject.id or 0
    reviews = reviews_of(session, sid)
    readings = _verified_readings(session, state)
    lines = []
    for report in reversed(reports_of(session, sid)):
        verified = (
            readings.get(report.report_date, "")
            if report.kind == BLOOD_PRESSURE
            else _verified_dose(state, report)
        )
        lines.append(ReportLine(report, reviews.get(report.id or 0), verified))
    return Panel(link, tuple(lines), dose_report_counts(session, state.plan(), sid))


def page_json(page: PatientPage) -> dict[str, Any]:
    return {
        "today": page.today.isoformat(),
        "doses": [
            {
                "slot": d.slot,
                "time": d.at.strftime("%H:%M"),
                "state": d.state,
                "taken_at": d.taken_at.strftime("%H:%M") if d.taken_at else None,
            }
            for d in page.doses
        ],
        "reading_asked": page.reading_asked,
        "reading": list(page.reading) if page.reading else None,
        "appointment": page.appointment.on.isoformat() if page.appointment else None,
        "phone": page.phone,
    }
