"""What a patient's reminder may say: the subject code, the date and what to do, nothing else.

Every title and body derived for random plans of both shipped protocols (random codes, zones,
dose times, holds, resumptions at any level, doses, adverse events, discontinuations, visits
recorded with deviations, all with record texts naming the drug, the site, the condition) must
match a template built here from the allowed parts alone. So a drug name, a site, a reason, an
adverse event term or any other record text cannot reach a message, whatever the plan.
"""

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler import core
from scheduler.core.inputs import DISCONTINUATION_REASONS
from scheduler.errors import InputError
from scheduler.protocols import Protocol, load_protocol, shipped_protocol_files
from scheduler.reminders.outbox import wanted_reminders
from scheduler.settings import Settings

PROTOCOLS = {p.name: load_protocol(p) for p in shipped_protocol_files()}
ZONES = ["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC"]
RECORD_TEXTS = [
    "grade 3 hypertension",
    "anlotinib",
    "capecitabine",
    "hepatocellular carcinoma",
    "The First Affiliated Hospital, Zhejiang University School of Medicine",
    "79 Qingchun Road, Hangzhou",
    "palmar-plantar erythrodysesthesia syndrome",
    "relapse on imaging",
    "came two days late: flooding",
]
"""Texts the records carry (reasons, terms, deviations), besides random ones."""

ALLOWED_BRING = [
    "ID",
    "medication list",
    "dosing diary",
    "blood pressure log",
    "all capsules and empty bottles",
    "all remaining capsules",
    "remaining tablets",
]
"""Written out here, not read from the code: adding a phrase to the messages is a decision this
test must be told about."""

DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
_ITEM = "|".join(re.escape(p) for p in ALLOWED_BRING)
DOSE = DATE + r": take your (?P<mg>\d+(?:\.\d+)?) mg dose due at (?P<time>\d{2}:\d{2})\."
VISIT = DATE + rf": clinic visit tomorrow\.(?: Please bring: (?:{_ITEM})(?:, (?:{_ITEM}))*\.)?"
TITLES = {"dose": "Dose reminder " + DATE, "visit": "Visit reminder " + DATE}

texts = st.sampled_from(RECORD_TEXTS) | st.text(min_size=1, max_size=40)


@st.composite
def plans(draw: st.DrawFn, protocol: Protocol) -> core.Plan:
    """A plan of ``protocol`` for a random subject, built one record at a time; records the core
    refuses are dropped, as the services would refuse them."""
    c1d1 = date(2026, 1, 5) + timedelta(days=draw(st.integers(0, 365)))
    schedule = protocol.schedule
    latest_hour = (
        23 - (schedule.administrations_per_day - 1) * schedule.administration_interval_hours
    )
    anchors = core.Anchors(
        subject=draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", fullmatch=True)),
        c1d1=c1d1,
        surgery=c1d1 - timedelta(days=draw(st.integers(20, 60))),
        time_zone=ZoneInfo(draw(st.sampled_from(ZONES))),
        dose_time=time(draw(st.integers(0, latest_hour)), draw(st.sampled_from([0, 15, 30, 45]))),
    )
    today = c1d1 + timedelta(days=draw(st.integers(-30, 0) | st.integers(0, 250)))
    levels = [None, *(level.dose_mg for level in protocol.dose_levels)]
    visit_codes = [v.code.replace("{cycle}", "1") for v in protocol.visits]
    history = core.History()
    plan = core.build_plan(protocol, anchors, history, today)
    for n in range(1, draw(st.integers(0, 10)) + 1):
        on = c1d1 + timedelta(days=draw(st.integers(-14, 200)))
        kind = draw(st.sampled_from(["hold", "hold", "resume", "dose", "stop", "ae", "visit"]))
        if kind in ("hold", "resume"):
            # A resumption needs an open hold: most holds here end in one, often reduced.
            if kind == "hold":
                record = core.HoldStart(id=n, on=on, reason=draw(texts))
                candidate = replace(history, holds=(*history.holds, record))
            else:
                candidate = history
            if kind == "resume" or draw(st.booleans()):
                last = max((h.on for h in candidate.holds), default=c1d1)
                resumed = core.HoldEnd(
                    id=n,
                    on=last + timedelta(days=draw(st.integers(1, 20))),
                    dose_mg=draw(st.sampled_from(levels)),
                )
                candidate = replace(candidate, resumptions=(*candidate.resumptions, resumed))
        elif kind == "dose":
            dose = core.DoseOutcome(id=n, on=on, taken=draw(st.booleans()))
            candidate = replace(history, doses=(*history.doses, dose))
        elif kind == "stop":
            reason = draw(st.sampled_from(DISCONTINUATION_REASONS))
            candidate = replace(
                history, discontinuation=core.TreatmentStop(id=n, on=on, reason=reason)
            )
        elif kind == "ae":
            event = core.ToxicityReport(
                id=n, term=draw(texts), grade=draw(st.integers(1, 5)), onset=on
            )
            candidate = replace(history, adverse_events=(*history.adverse_events, event))
        else:
            visit = core.VisitDone(
                id=n, code=draw(st.sampled_from(visit_codes)), on=on, deviation=draw(texts)
            )
            candidate = replace(history, visits=(*history.visits, visit))
        try:
            plan = core.build_plan(protocol, anchors, candidate, today)
        except InputError:
            continue
        history = candidate
    return plan


def _check(plan: core.Plan, now: datetime, visit_time: time) -> None:
    reminder_settings = Settings(
        database_url="sqlite://", reminder_horizon_days=400, reminder_visit_time=visit_time
    )
    slots = {slot.key: slot for slot in plan.doses()}
    visits = {visit.code: visit for visit in plan.visits}
    strengths = {level.dose_mg for level in plan.protocol.dose_levels}
    for wanted in wanted_reminders(plan, now, reminder_settings):
        template = DOSE if wanted.kind == "dose" else VISIT
        body = re.fullmatch(re.escape(plan.subject) + ", " + template, wanted.body)
        assert body is not None, wanted.body
        title = re.fullmatch(TITLES[wanted.kind], wanted.title)
        assert title is not None, wanted.title
        if wanted.kind == "dose":
            slot = slots[wanted.item_key]
            assert body["date"] == title["date"] == slot.date.isoformat()
            assert float(body["mg"]) == slot.dose_mg and slot.dose_mg in strengths
            assert body["time"] == f"{slot.time:%H:%M}"
        else:
            visit = visits[wanted.item_key]
            assert body["date"] == title["date"] == visit.target.isoformat()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=plans(PROTOCOLS["nct03945799.toml"]),
    hour=st.integers(0, 23),
    visit_time=st.times(),
)
def test_every_anlotinib_reminder_says_only_the_code_the_date_and_what_to_do(
    plan, hour, visit_time
):
    now = datetime.combine(plan.today, time(hour), plan.anchors.time_zone).astimezone(UTC)
    _check(plan, now, visit_time)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=plans(PROTOCOLS["example_capecitabine.toml"]),
    hour=st.integers(0, 23),
    visit_time=st.times(),
)
def test_every_capecitabine_reminder_says_only_the_code_the_date_and_what_to_do(
    plan, hour, visit_time
):
    now = datetime.combine(plan.today, time(hour), plan.anchors.time_zone).astimezone(UTC)
    _check(plan, now, visit_time)


def test_the_shipped_bring_lists_keep_only_generic_phrases():
    """What each shipped visit asks for, as a patient reads it: medical documents stay out."""
    plan = core.build_plan(
        PROTOCOLS["nct03945799.toml"],
        core.Anchors(
            subject="S-001",
            c1d1=date(2026, 3, 2),
            surgery=date(2026, 2, 1),
            time_zone=ZoneInfo("Asia/Shanghai"),
        ),
        core.History(),
        date(2026, 2, 10),
    )
    reminder_settings = Settings(database_url="sqlite://", reminder_horizon_days=400)
    now = datetime(2026, 2, 10, tzinfo=UTC)
    bodies = {w.item_key: w.body for w in wanted_reminders(plan, now, reminder_settings)}
    assert (
        bodies["SCR"]
        == "S-001, 2026-02-16: clinic visit tomorrow. Please bring: ID, medication list."
    )
    assert bodies["C2D1"] == (
        "S-001, 2026-03-23: clinic visit tomorrow. "
        "Please bring: dosing diary, blood pressure log, all capsules and empty bottles."
    )
    assert bodies["C3D1"] == (
        "S-001, 2026-04-13: clinic visit tomorrow. "
        "Please bring: dosing diary, all capsules and empty bottles."
    )
    assert bodies["FU3M"] == "S-001, 2026-05-01: clinic visit tomorrow. Please bring: ID."
    assert bodies["C1D2"] == "S-001, 2026-03-03: take your 12 mg dose due at 08:00."
