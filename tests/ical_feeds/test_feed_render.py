"""The patient feed as bytes: the golden scenario, calendar properties, one event per dose and
visit, cancelled events, alarms, privacy and text that cannot inject anything."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

import calendars
from calendars import render
from scheduler import core
from scheduler.core.times import local_instant

GOLDEN = Path(__file__).parent / "golden"
ZONE = ZoneInfo("America/New_York")
ENROLLED = datetime(2026, 2, 20, 14, 0, tzinfo=UTC)
HELD = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
RESUMED = datetime(2026, 3, 25, 13, 0, tzinfo=UTC)
TODAY = date(2026, 4, 1)
FETCHED = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
OPTIONS = calendars.FeedOptions(
    site_address="1 Study Way, Boston, MA", clinic_phone="+1 617 555 0100"
)


def counter_uids():
    numbers = iter(range(1, 10_000))
    return lambda: str(uuid.UUID(int=next(numbers)))


def anchors(zone=ZONE, dose_time=time(8, 0)) -> core.Anchors:
    return core.Anchors(
        subject="S-014",
        c1d1=date(2026, 3, 2),
        surgery=date(2026, 2, 1),
        time_zone=zone,
        dose_time=dose_time,
    )


TAKEN = tuple(
    core.DoseOutcome(id=i, on=date(2026, 3, 2) + timedelta(days=i - 1), taken=True)
    for i in range(1, 9)
)
HOLD = core.HoldStart(id=1, on=date(2026, 3, 10), reason="grade 3 hypertension")
RESUME = core.HoldEnd(id=1, on=date(2026, 3, 25), dose_mg=10)


def golden_scenario(protocol):
    """Enrolled, a week of doses, held on C1 D9 for hypertension, resumed at 10 mg on 03-25
    (which delays cycle 2 by two days); identities assigned at each of the three changes."""
    new_uid = counter_uids()
    steps = [
        (ENROLLED, core.History(), date(2026, 2, 20)),
        (HELD, core.History(doses=TAKEN, holds=(HOLD,)), date(2026, 3, 10)),
        (
            RESUMED,
            core.History(doses=TAKEN, holds=(HOLD,), resumptions=(RESUME,)),
            date(2026, 3, 25),
        ),
    ]
    identities: dict = {}
    for now, history, today in steps:
        plan = core.build_plan(protocol, anchors(), history, today)
        items = calendars.patient_items(plan, OPTIONS)
        identities.update(calendars.assign_identities(items, identities, now, new_uid))
    plan = core.build_plan(protocol, anchors(), steps[-1][1], TODAY)
    items = calendars.patient_items(plan, OPTIONS)
    identities.update(calendars.assign_identities(items, identities, FETCHED, new_uid))
    return plan, identities


def test_the_golden_feed_is_reproduced_byte_for_byte(anlotinib):
    plan, identities = golden_scenario(anlotinib)
    body = calendars.render_patient_feed(plan, identities, OPTIONS, TODAY)
    golden = GOLDEN / "anlotinib_hold_reduction.ics"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(body)
    assert body == golden.read_bytes()


def test_changed_feed_bytes_come_with_a_new_render_format():
    """Served ETags change only if RENDER_FORMAT does: a change to the golden bytes must raise
    it (then record the new pair here), or clients keep the old bytes on 304."""
    digest = hashlib.sha256((GOLDEN / "anlotinib_hold_reduction.ics").read_bytes()).hexdigest()
    # Format 4's digest changed once without a new format: the scenario's protocol gained the
    # baseline imaging and survival visits (NCT03945799 version 4), the renderer did not change.
    # Format 6 escapes the calendar's name (a name with a comma or backslash renders otherwise).
    assert (calendars.RENDER_FORMAT, digest) == (
        6,
        "7f1e811781f99de1ee665be8f4c223d659331bfd2c0ae0bdb6cd84d13068d5fb",
    ), "the feed's bytes changed: raise calendars.RENDER_FORMAT and record the new pair"


def test_an_unchanged_plan_renders_to_identical_bytes(anlotinib):
    plan, identities = golden_scenario(anlotinib)
    first = calendars.render_patient_feed(plan, identities, OPTIONS, TODAY)
    again = core.build_plan(anlotinib, anchors(), plan_history(plan), TODAY)
    same = calendars.assign_identities(
        calendars.patient_items(again, OPTIONS), identities, datetime(2026, 4, 1, tzinfo=UTC)
    )
    assert same == {k: identities[k] for k in same}
    assert calendars.render_patient_feed(again, same, OPTIONS, TODAY) == first


def plan_history(plan) -> core.History:
    return core.History(doses=TAKEN, holds=(HOLD,), resumptions=(RESUME,))


def parsed(body: bytes) -> Calendar:
    calendar = Calendar.from_ical(body)
    assert not calendar.errors
    return calendar


def test_calendar_properties_and_no_method_or_calendar_uid(anlotinib):
    plan, identities = golden_scenario(anlotinib)
    body = calendars.render_patient_feed(plan, identities, OPTIONS, TODAY)
    header = body.split(b"BEGIN:VTIMEZONE")[0].decode()
    assert "VERSION:2.0\r\n" in header
    assert "PRODID:-//dosing-scheduler//calendar feeds//EN\r\n" in header
    assert "NAME:Study calendar\r\n" in header
    assert "X-WR-CALNAME:Study calendar\r\n" in header
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in header
    assert "X-PUBLISHED-TTL:PT1H\r\n" in header
    calendar = parsed(body)
    assert "METHOD" not in calendar and "UID" not in calendar
    assert b"RRULE" not in body


def test_one_event_per_dose_slot_and_per_visit_with_random_uids(anlotinib):
    plan = core.build_plan(anlotinib, anchors(), core.History(), date(2026, 2, 20))
    items = calendars.patient_items(plan, OPTIONS)
    identities = calendars.assign_identities(items, {}, ENROLLED)
    calendar = parsed(calendars.render_patient_feed(plan, identities, OPTIONS, plan.today))
    events = calendar.events
    assert len(events) == 8 * 14 + len(plan.visits)
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == len(events)
    assert all(uuid.UUID(u).version == 4 for u in uids)
    assert not any("S-014" in u for u in uids)
    # Each cycle has a "day 5 of 14": cycle 2's is on 2026-03-27.
    fifth = [e for e in events if str(e["SUMMARY"]) == "Study capsule 12 mg - day 5 of 14"]
    assert len(fifth) == 8
    dose = next(e for e in fifth if e.DTSTART.date() == date(2026, 3, 27))
    assert local_instant(date(2026, 3, 27), time(8, 0), ZONE) == dose.DTSTART
    assert dose["DTSTART"].params["TZID"] == "America/New_York"
    assert dose.duration == timedelta(minutes=15)
    visit = next(
        e
        for e in events
        if str(e["SUMMARY"]) == "Study visit: first day of cycle 2: collect your capsules"
    )
    assert date(2026, 3, 23) == visit.DTSTART
    assert "Window: 2026-03-20 to 2026-03-26." in str(visit["DESCRIPTION"])
    assert "Please bring: dosing diary, blood pressure log, all capsules and empty bottles." in str(
        visit["DESCRIPTION"]
    )
    assert str(visit["LOCATION"]) == "1 Study Way, Boston, MA"


def test_every_tzid_has_a_vtimezone_and_no_time_floats(anlotinib):
    plan, identities = golden_scenario(anlotinib)
    calendar = parsed(calendars.render_patient_feed(plan, identities, OPTIONS, TODAY))
    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert zones == {"America/New_York"}
    for event in calendar.events:
        start = event.DTSTART
        if isinstance(start, datetime):
            assert event["DTSTART"].params["TZID"] in zones
        else:
            assert isinstance(start, date)
        for name in ("DTSTAMP", "LAST-MODIFIED"):
            assert event[name].dt.tzinfo is not None and event[name].to_ical().endswith(b"Z")


def test_held_doses_are_cancelled_without_alarm_and_titled_hold(anlotinib):
    plan, identities = golden_scenario(anlotinib)
    calendar = parsed(calendars.render_patient_feed(plan, identities, OPTIONS, TODAY))
    held = [e for e in calendar.events if str(e["STATUS"]) == "CANCELLED"]
    assert [str(e["SUMMARY"]) for e in held] == [
        f"HOLD - do not take - day {day} of 14" for day in range(9, 15)
    ]
    assert all(not e.subcomponents for e in held)


def test_cancelled_events_drop_out_30_days_after_they_were_cancelled(anlotinib):
    plan, identities = golden_scenario(anlotinib)
    held_on = HELD.date()
    for today, expected in [(held_on + timedelta(days=30), 6), (held_on + timedelta(days=31), 0)]:
        later = core.build_plan(anlotinib, anchors(), plan_history(plan), today)
        calendar = parsed(calendars.render_patient_feed(later, identities, OPTIONS, today))
        cancelled = [e for e in calendar.events if str(e["STATUS"]) == "CANCELLED"]
        assert len(cancelled) == expected


def test_discontinued_subjects_visits_are_cancelled_then_drop_out(anlotinib):
    stop = core.TreatmentStop(id=1, on=date(2026, 3, 20), reason="relapse")
    history = core.History(doses=TAKEN, holds=(HOLD,), discontinuation=stop)
    plan = core.build_plan(anlotinib, anchors(), history, date(2026, 3, 20))
    items = calendars.patient_items(plan, OPTIONS)
    stopped_at = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
    identities = calendars.assign_identities(items, {}, stopped_at)
    calendar = parsed(calendars.render_patient_feed(plan, identities, OPTIONS, plan.today))
    titles = [str(e["SUMMARY"]) for e in calendar.events if str(e["STATUS"]) == "CANCELLED"]
    assert "CANCELLED - Study visit: first day of cycle 2: collect your capsules" in titles
    assert "CANCELLED - do not take - day 14 of 14" in titles
    later = core.build_plan(anlotinib, anchors(), history, date(2026, 4, 20))
    calendar = parsed(calendars.render_patient_feed(later, identities, OPTIONS, later.today))
    assert not [e for e in calendar.events if str(e["STATUS"]) == "CANCELLED"]
    assert any(
        str(e["SUMMARY"]).startswith("Study visit: End of treatment") for e in calendar.events
    )


def test_alarms_at_dose_time_and_the_evening_before_a_visit(anlotinib):
    plan = core.build_plan(anlotinib, anchors(), core.History(), date(2026, 2, 20))
    identities = calendars.assign_identities(calendars.patient_items(plan, OPTIONS), {}, ENROLLED)
    calendar = parsed(calendars.render_patient_feed(plan, identities, OPTIONS, plan.today))
    for event in calendar.events:
        if str(event["STATUS"]) == "TENTATIVE":  # the end of treatment, projected
            assert not event.walk("VALARM")
            continue
        (alarm,) = event.walk("VALARM")
        assert str(alarm["ACTION"]) == "DISPLAY" and str(alarm["DESCRIPTION"])
        trigger = alarm["TRIGGER"].dt
        if isinstance(event.DTSTART, datetime):
            assert trigger == timedelta(0)
        else:
            assert trigger == -timedelta(hours=6)  # 18:00 the day before


def test_taken_doses_say_so_and_have_no_alarm(anlotinib):
    plan, identities = golden_scenario(anlotinib)
    calendar = parsed(calendars.render_patient_feed(plan, identities, OPTIONS, TODAY))
    taken = [e for e in calendar.events if str(e["SUMMARY"]).endswith("(taken)")]
    assert len(taken) == 8
    assert all(not e.subcomponents for e in taken)


def test_privacy_by_default_no_drug_name_subject_or_diagnosis(anlotinib):
    plan, identities = golden_scenario(anlotinib)
    body = calendars.render_patient_feed(plan, identities, OPTIONS, TODAY).decode().lower()
    for word in ("anlotinib", "s-014", "hepatocellular", "hcc", "carcinoma", "cancer", "tumour"):
        assert word not in body
    assert "study capsule 10 mg - day 1 of 14" in body


def test_the_site_can_show_the_drug_name(anlotinib):
    plan, identities = golden_scenario(anlotinib)
    shown = replace(OPTIONS, show_drug_name=True)
    items = calendars.patient_items(plan, shown)
    bumped = calendars.assign_identities(items, identities, datetime(2026, 4, 1, tzinfo=UTC))
    body = calendars.render_feed(items, bumped, shown, TODAY)
    assert b"SUMMARY:Anlotinib capsule 10 mg - day 1 of 14" in body
    changed = [k for k in bumped if bumped[k].sequence != identities[k].sequence]
    assert len(changed) == sum(1 for i in items if i.key.startswith("dose:") and not i.cancelled)


HOSTILE = (
    "Clinic\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\nSUMMARY:injected\r\n"
    "ATTACH:http://evil\x00\x1b[31m;,\\\u2028\u202e" + "x" * 2000
)


def test_typed_text_cannot_inject_a_property_or_an_event(anlotinib):
    options = calendars.FeedOptions(
        calendar_name=HOSTILE, site_address=HOSTILE, clinic_phone=HOSTILE
    )
    plan = core.build_plan(anlotinib, anchors(), core.History(), date(2026, 2, 20))
    items = calendars.patient_items(plan, options)
    identities = calendars.assign_identities(items, {}, ENROLLED)
    body = calendars.render_feed(items, identities, options, plan.today)
    calendar = parsed(body)
    assert len(calendar.events) == len(items)
    assert "evil" not in {str(e["UID"]) for e in calendar.events}
    assert b"\r\nATTACH" not in body and b"\r\nUID:evil" not in body
    assert b"\x00" not in body and b"\x1b" not in body
    assert "\u2028".encode() not in body and "\u202e".encode() not in body
    for event in calendar.events:
        assert len(str(event.get("LOCATION", ""))) <= calendars.text.MAX_TYPED
        assert set(event) <= {
            "SUMMARY",
            "DTSTART",
            "DTEND",
            "DURATION",
            "DTSTAMP",
            "UID",
            "SEQUENCE",
            "CLASS",
            "DESCRIPTION",
            "LAST-MODIFIED",
            "LOCATION",
            "STATUS",
            "TRANSP",
        }
    assert len(str(calendar["X-WR-CALNAME"])) <= 80


def test_clean_strips_control_characters_and_caps_length():
    assert calendars.clean("a\r\nb\x00c\td") == "a b c d"
    assert calendars.clean("👍 emoji \u200d kept") == "👍 emoji \u200d kept"
    assert calendars.clean("x" * 500, 10) == "x" * 9 + "\u2026"


def test_staff_and_pharmacy_items_render_with_subject_codes(anlotinib):
    plan, _ = golden_scenario(anlotinib)
    items = calendars.site_visit_items([plan], OPTIONS)
    prep = calendars.Preparation(
        subject="S-014",
        cycle=3,
        day1=date(2026, 4, 15),
        prepare_by=date(2026, 4, 13),
        dose_mg=10,
        capsules="14 x 10 mg",
        cancelled=False,
        status="to prepare",
    )
    items += calendars.pharmacy_items([prep], OPTIONS)
    identities = calendars.assign_identities(items, {}, ENROLLED)
    calendar = parsed(calendars.render_feed(items, identities, OPTIONS, TODAY))
    titles = {str(e["SUMMARY"]) for e in calendar.events}
    assert "S-014 Study visit: Cycle 3 Day 1" in titles
    assert "Prepare S-014 C3: 14 x 10 mg" in titles
    assert not any(e.walk("VALARM") for e in calendar.events)


def test_rendering_without_an_identity_is_refused(anlotinib):
    plan = core.build_plan(anlotinib, anchors(), core.History(), date(2026, 2, 20))
    with pytest.raises(KeyError, match="no identity"):
        calendars.render_patient_feed(plan, {}, OPTIONS, plan.today)


def test_dose_lines_fold_at_75_octets():
    body = (GOLDEN / "anlotinib_hold_reduction.ics").read_bytes()
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    assert not re.search(rb"[^\r]\n", body)


def test_events_written_line_by_line_are_the_bytes_icalendar_writes(anlotinib, capecitabine):
    """The fast writer (``write_event``) against icalendar's own serialiser, for every event of
    the golden scenario, the staff and pharmacy feeds, two regimens, four zones with doses in
    DST gaps and folds (written in UTC) and identities with microseconds and high sequences."""
    plan, identities = golden_scenario(anlotinib)
    items = calendars.patient_items(plan, OPTIONS)
    items += calendars.site_visit_items([plan], OPTIONS)
    for key in ("Europe/Berlin", "Australia/Sydney", "Asia/Shanghai", "America/New_York"):
        for protocol, at in ((anlotinib, time(2, 30)), (capecitabine, time(1, 30))):
            other = core.build_plan(
                protocol, anchors(ZoneInfo(key), at), core.History(), date(2026, 2, 20)
            )
            items += calendars.patient_items(other, OPTIONS)
    prep = calendars.Preparation(
        subject="S-014",
        cycle=3,
        day1=date(2026, 4, 15),
        prepare_by=date(2026, 4, 13),
        dose_mg=10,
        capsules="14 x 10 mg",
        cancelled=True,
        status="do not prepare",
    )
    items += calendars.pharmacy_items([prep], OPTIONS)
    revised = datetime(2026, 3, 10, 15, 30, 12, 345678, tzinfo=ZONE)
    checked = 0
    for n, item in enumerate(items):
        identity = identities.get(item.ident) or calendars.Identity(
            uid=str(uuid.UUID(int=n)), sequence=n, fingerprint=item.fingerprint, revised=revised
        )
        written = render.write_event(item, identity)
        assert written == render.event_component(item, identity).to_ical(), item
        checked += 1
    assert checked > 1000
    assert any(isinstance(i.start, datetime) and i.start.tzinfo is UTC for i in items)


def test_an_event_the_fast_writer_does_not_cover_goes_through_icalendar(anlotinib):
    """Typed text never holds a byte-order mark (``clean`` drops it); an item built with one
    anyway is written by icalendar, which drops it too."""
    plan, identities = golden_scenario(anlotinib)
    items = [i for i in calendars.patient_items(plan, OPTIONS) if i.key.startswith("visit:")]
    items[0] = replace(items[0], location="\ufeffKlinikstra\u00dfe 1, M\u00fcnchen")
    assert render.write_event(items[0], identities[items[0].ident]) is None
    feed = calendars.render_feed(items, identities, OPTIONS, TODAY)
    assert "LOCATION:Klinikstra\u00dfe 1\\, M\u00fcnchen".encode() in feed


def test_a_past_dose_without_a_diary_entry_never_says_take_it_now(anlotinib):
    """C1D1-D8 are recorded taken; on 2026-03-12 (C1D11, no hold) D9 and D10 have no record:
    their events ask the patient to tell the team, and only today's and later doses say
    "take"."""
    today = date(2026, 3, 12)
    plan = core.build_plan(anlotinib, anchors(), core.History(doses=TAKEN), today)
    items = calendars.patient_items(plan, OPTIONS)
    identities = calendars.assign_identities(items, {}, FETCHED, counter_uids())
    calendar = parsed(calendars.render_patient_feed(plan, identities, OPTIONS, today))
    doses = {
        str(e["SUMMARY"]).rsplit("- ", 1)[-1]: str(e["DESCRIPTION"])
        for e in calendar.events
        if str(e["SUMMARY"]).startswith("Study capsule")
        and e.decoded("DTSTART").month == 3
        and e.decoded("DTSTART").day in (10, 11, 12, 13)
    }
    assert "do not take it now" in doses["day 9 of 14"]
    assert "do not take it now" in doses["day 10 of 14"]
    assert doses["day 11 of 14"].startswith("Take one dose")
    assert doses["day 12 of 14"].startswith("Take one dose")
