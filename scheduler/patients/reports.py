"""What a patient reports through their private page or a one-tap link: a dose taken (at a
time) or not taken, and a home blood pressure on the days the protocol asks for one.

A report is stored as the patient sent it (``PatientReport``), attributed to the link it came
through, never to a staff account, and it is not a dose record or a lab result: a nurse confirms
or corrects it at the next visit (``scheduler.patients.reviews``). It is refused, with a sentence
the patient understands in their language, for a day with no dose (a rest day, or after the
treatment ended), a held day, a future day or a time still to come, and a day too long ago to
report from home; the same dose (or a second reading of one day) keeps the first report and
says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from scheduler.core.dosing_days import DoseSlot
from scheduler.core.lab_rules import home_bp_days
from scheduler.core.times import local_instant
from scheduler.core.wording import N_, Wording
from scheduler.errors import InputError
from scheduler.kernel.subject_state import SubjectState
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import parse_time
from scheduler.models import PatientLink, PatientReport

DOSE = "dose"
BLOOD_PRESSURE = "bp"
REPORT_DAYS_BACK = 2
"""A patient may report today's dose and those of the two days before; older doses are told
to the team at the visit (a diary, not a memory, should speak for them)."""
SYSTOLIC_RANGE = (60, 260)
DIASTOLIC_RANGE = (30, 160)
"""What a home monitor can plausibly read; anything else is a typing slip."""

REST_DAY = N_("There is no dose to take on {date}. Nothing was saved.")
HELD_DAY = N_("Your study medicine is paused on {date}: do not take it. Nothing was saved.")
FUTURE_DAY = N_("{date} has not come yet. Nothing was saved.")
FUTURE_TIME = N_("{time} is later than now. Nothing was saved.")
TOO_OLD = N_("{date} is too long ago to report here: tell the study team at your next visit.")
NO_READING = N_("No blood pressure reading is asked for on {date}. Nothing was saved.")
BAD_READING = N_(
    "{systolic}/{diastolic} is not a blood pressure reading: check the numbers on your "
    "monitor and type them again."
)
BAD_TIME = N_("Type the time as hours and minutes, for example 07:30.")
SAVED_TAKEN = N_("Saved: you took your dose of {date} at {time}.")
SAVED_NOT_TAKEN = N_("Saved: you did not take your dose of {date}. The study team will call you.")
SAVED_READING = N_("Saved: your blood pressure of {date}, {systolic}/{diastolic}.")
ALREADY_TAKEN = N_(
    "You already reported your dose of {date}: taken at {time}. Your first report is kept; "
    "to change it, call the study team."
)
ALREADY_NOT_TAKEN = N_(
    "You already reported your dose of {date}: not taken. Your first report is kept; to "
    "change it, call the study team."
)
ALREADY_READING = N_(
    "You already reported your blood pressure of {date}: {systolic}/{diastolic}. Your first "
    "report is kept."
)


class ReportRefused(InputError):
    """A report refused, with the message for the patient (a catalogue message id and its
    values) besides the field and the English reason the API and the audit show."""

    def __init__(self, field: str, message: str, **values: Any) -> None:
        self.message, self.values = message, values
        super().__init__(field, message.format(**{k: str(v) for k, v in values.items()}))

    def worded(self, words: Wording) -> str:
        return words.gettext(self.message).format(**_formatted(words, self.values))


@dataclass(frozen=True)
class Reported:
    """A report kept, and whether it was there before (the same dose reported twice)."""

    report: PatientReport
    duplicate: bool

    def worded(self, words: Wording) -> str:
        row = self.report
        values = _formatted(
            words,
            {
                "date": row.report_date,
                "time": row.taken_at,
                "systolic": row.systolic,
                "diastolic": row.diastolic,
            },
        )
        if row.kind == BLOOD_PRESSURE:
            message = ALREADY_READING if self.duplicate else SAVED_READING
        elif row.taken:
            message = ALREADY_TAKEN if self.duplicate else SAVED_TAKEN
        else:
            message = ALREADY_NOT_TAKEN if self.duplicate else SAVED_NOT_TAKEN
        return words.gettext(message).format(**values)

    def as_json(self) -> dict[str, Any]:
        return report_json(self.report) | {"duplicate": self.duplicate}


def _formatted(words: Wording, values: dict[str, Any]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, date):
            shown[key] = words.day(value)
        elif isinstance(value, time):
            shown[key] = words.time(value)
        else:
            shown[key] = "" if value is None else str(value)
    return shown


def report_json(row: PatientReport) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "date": row.report_date.isoformat(),
        "slot": row.slot,
        "taken": row.taken,
        "taken_at": row.taken_at.strftime("%H:%M") if row.taken_at else None,
        "systolic": row.systolic,
        "diastolic": row.diastolic,
        "via": row.via,
        "recorded_at": row.recorded_at.isoformat(),
        "recorded_by": row.recorded_by,
    }


def reported_time(text: str) -> time | None:
    """The time typed on the page (HH:MM), None when left empty, else the refusal."""
    text = text.strip()
    if not text:
        return None
    try:
        return parse_time("at", text[:5])
    except InputError:
        raise ReportRefused("at", BAD_TIME) from None


def _reportable_day(state: SubjectState, day: date) -> None:
    if day > state.today:
        raise ReportRefused("date", FUTURE_DAY, date=day)
    if day < state.today - timedelta(days=REPORT_DAYS_BACK):
        raise ReportRefused("date", TOO_OLD, date=day)


def dose_slot(state: SubjectState, day: date, slot: int) -> DoseSlot:
    """The plan's slot a dose report is for, or the refusal a patient reads."""
    _reportable_day(state, day)
    found = next((s for s in state.plan().doses() if (s.date, s.slot) == (day, slot)), None)
    if found is None or found.status == "cancelled":
        raise ReportRefused("date", REST_DAY, date=day)
    if found.status == "held":
        raise ReportRefused("date", HELD_DAY, date=day)
    return found


def _existing(unit: Unit, subject_id: int, kind: str, day: date, slot: int) -> PatientReport | None:
    return unit.session.exec(
        select(PatientReport).where(
            PatientReport.subject_id == subject_id,
            PatientReport.kind == kind,
            PatientReport.report_date == day,
            PatientReport.slot == slot,
        )
    ).first()


def _store(unit: Unit, state: SubjectState, row: PatientReport, link: PatientLink) -> Reported:
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        f"patient_report.{row.kind}",
        entity="patientreport",
        entity_id=row.id,
        subject_id=state.subject.id,
        new=report_json(row) | {"reported_by": "patient", "link": link.id},
        reason=f"reported by the patient through private link {link.id} ({row.via}); "
        "not verified by staff",
    )
    return Reported(row, duplicate=False)


def report_dose(
    unit: Unit,
    state: SubjectState,
    link: PatientLink,
    *,
    on: date,
    taken: bool,
    at: time | None,
    slot: int = 1,
    via: str = "page",
) -> Reported:
    """Keep the patient's report of one dose. ``at``: when it was taken; None with ``taken``
    means now (today's dose) or an unknown time (an earlier day's)."""
    dose = dose_slot(state, on, slot)
    sid = state.subject.id or 0
    earlier = _existing(unit, sid, DOSE, dose.date, dose.slot)
    if earlier is not None:
        return Reported(earlier, duplicate=True)
    if taken and at is None and on == state.today:
        # "Taken now" (a one-tap link): the time is the patient's local time of the report.
        at = unit.now.astimezone(state.anchors.time_zone).time().replace(second=0, microsecond=0)
    if taken and at is not None and local_instant(on, at, state.anchors.time_zone) > unit.now:
        raise ReportRefused("at", FUTURE_TIME, time=at)
    row = PatientReport(
        subject_id=sid,
        link_id=link.id or 0,
        kind=DOSE,
        report_date=dose.date,
        slot=dose.slot,
        taken=taken,
        taken_at=at if taken else None,
        via=via,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    return _store(unit, state, row, link)


def reading_asked(state: SubjectState, day: date) -> bool:
    """``[labs.home_bp]``: whether the protocol asks for a home blood pressure on ``day`` (the
    rule the staff's home readings follow, ``scheduler.core.lab_rules.home_bp_days``)."""
    rules = state.protocol.labs
    if rules is None or rules.home_bp is None:
        return False
    return day in home_bp_days(rules.home_bp, state.plan())


def _reading(systolic: int, diastolic: int) -> None:
    low, high = SYSTOLIC_RANGE
    d_low, d_high = DIASTOLIC_RANGE
    if not (low <= systolic <= high and d_low <= diastolic <= d_high and systolic > diastolic):
        raise ReportRefused(
            "systolic", BAD_READING, systolic=str(systolic), diastolic=str(diastolic)
        )


def report_blood_pressure(
    unit: Unit,
    state: SubjectState,
    link: PatientLink,
    *,
    on: date,
    systolic: int,
    diastolic: int,
    via: str = "page",
) -> Reported:
    """Keep the patient's home blood pressure of ``on`` (one a day; the first is kept)."""
    _reportable_day(state, on)
    if not reading_asked(state, on):
        raise ReportRefused("date", NO_READING, date=on)
    _reading(systolic, diastolic)
    sid = state.subject.id or 0
    earlier = _existing(unit, sid, BLOOD_PRESSURE, on, 1)
    if earlier is not None:
        return Reported(earlier, duplicate=True)
    row = PatientReport(
        subject_id=sid,
        link_id=link.id or 0,
        kind=BLOOD_PRESSURE,
        report_date=on,
        systolic=systolic,
        diastolic=diastolic,
        via=via,
        recorded_at=unit.now,
        recorded_by=unit.actor,
    )
    return _store(unit, state, row, link)


def reports_of(session: Session, subject_id: int) -> list[PatientReport]:
    return list(
        session.exec(
            select(PatientReport)
            .where(PatientReport.subject_id == subject_id)
            .order_by(col(PatientReport.report_date), col(PatientReport.id))
        )
    )
