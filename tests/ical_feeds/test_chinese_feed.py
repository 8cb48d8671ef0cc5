"""A Chinese patient's feed: every title, description and alarm in the subject's language,
dates in the Chinese format, the protocol's own translations of visit names and what to bring,
and icalendar and ical.js reading back the same strings the plan produced.

Subject S-014 in Shanghai (C1D1 Monday 2026-03-02, doses at 08:00): a week taken, C1 D8
missed, held from C1 D10 for hypertension, resumed at 10 mg on 03-20; seen on 2026-03-25."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import icalendar
import pytest
from ical_consumers import read_with_icaljs

import calendars
from calendars import render
from scheduler import core

TODAY = date(2026, 3, 25)
OPTIONS = calendars.FeedOptions(
    language="zh_CN", site_address="浙江大学医学院附属第一医院", clinic_phone="+86 571 0000 0000"
)
HISTORY = core.History(
    doses=(
        *(
            core.DoseOutcome(id=n, on=date(2026, 3, 1 + n), taken=True, taken_at=time(8, 5))
            for n in range(1, 8)
        ),
        core.DoseOutcome(id=8, on=date(2026, 3, 9), taken=False),
    ),
    holds=(core.HoldStart(id=20, on=date(2026, 3, 11), reason="grade 3 hypertension"),),
    resumptions=(core.HoldEnd(id=21, on=date(2026, 3, 20), dose_mg=10),),
)


@pytest.fixture(scope="module")
def plan(anlotinib):
    anchors = core.Anchors(
        subject="S-014",
        c1d1=date(2026, 3, 2),
        surgery=date(2026, 1, 26),
        time_zone=ZoneInfo("Asia/Shanghai"),
        dose_time=time(8, 0),
    )
    return core.build_plan(anlotinib, anchors, HISTORY, TODAY)


@pytest.fixture(scope="module")
def feed(plan):
    items = calendars.patient_items(plan, OPTIONS)
    identities = calendars.assign_identities(items, {}, datetime(2026, 3, 25, 2, tzinfo=UTC))
    return items, calendars.render_feed(items, identities, OPTIONS, TODAY), identities


def _by_key(items):
    return {item.key: item for item in items}


def test_doses_read_in_chinese_with_what_happened(feed):
    items = _by_key(feed[0])
    assert items["dose:C1D1"].summary == "研究用胶囊 12 mg - 第 1 天（共 14 天）（已服用）"
    assert items["dose:C1D8"].summary == "研究用胶囊 12 mg - 第 8 天（共 14 天）（漏服）"
    assert items["dose:C1D11"].summary == "暂停 - 请勿服药 - 第 11 天（共 14 天）"
    assert items["dose:C1D11"].description.startswith("服药已暂停。这一天请不要服药。")
    upcoming = items["dose:C2D5"]
    assert upcoming.summary == "研究用胶囊 10 mg - 第 5 天（共 14 天）"
    assert upcoming.description.splitlines() == [
        "请在此时口服一次 研究用胶囊 10 mg。",
        "漏服的剂量不要补服：同一天内不要服用两次。",
        "如有疑问，请致电研究团队：+86 571 0000 0000。",
    ]
    assert upcoming.alarm_text == "该服用 研究用胶囊 10 mg 了"


def test_visits_use_the_protocols_translations_and_chinese_dates(feed, plan):
    items = _by_key(feed[0])
    c1d15 = items["visit:C1D15"]
    assert c1d15.summary == "研究访视：第1周期第15天安全检查"
    visit = next(v for v in plan.visits if v.code == "C1D15")
    assert visit.window_start == date(2026, 3, 14)
    assert c1d15.description.splitlines()[:2] == [
        "可选日期：3月14日 星期六 至 3月18日 星期三。",
        "请携带：服药日记、血压记录。",
    ]
    assert c1d15.alarm_text == "明天：研究访视（第1周期第15天安全检查）"
    assert items["visit:C2D1"].summary == "研究访视：第 2 周期第一天：领取您的胶囊"
    assert items["visit:FU3M"].summary == "研究访视：第3个月随访"


MEDICAL_ABBREVIATIONS = ("CT", "MRI")
"""Latin abbreviations Chinese hospitals print as they are and patients read as such (the
baseline visit's "基线影像检查（CT/MRI）"); a translation spelling them out would read less
like the hospital's own forms. Only whole tokens are excused, in this exact case."""
_ALLOWED = re.compile(
    r"(?<![A-Za-z0-9])(?:mg|Asia/Shanghai|"
    + "|".join(map(re.escape, MEDICAL_ABBREVIATIONS))
    + r")(?![A-Za-z0-9])"
)


def test_no_english_word_reaches_a_chinese_patient(feed):
    for item in feed[0]:
        for text in (item.summary, item.description, item.alarm_text):
            letters = _ALLOWED.sub("", text)
            assert not any("a" <= ch.lower() <= "z" for ch in letters), text


def test_only_whole_abbreviations_are_excused():
    assert _ALLOWED.sub("", "基线影像检查（CT/MRI）") == "基线影像检查（/）"
    assert _ALLOWED.sub("", "12 mg") == "12 "
    for english in ("CTs", "Contact", "MRIs", "mgs", "ct"):
        assert _ALLOWED.sub("", english) == english


def test_the_chinese_feed_takes_the_fast_writer(feed):
    items, _, identities = feed
    for item in items:
        written = render.write_event(item, identities[item.ident])
        assert written is not None
        assert written == render.event_component(item, identities[item.ident]).to_ical()


def test_icalendar_and_icaljs_read_back_the_same_chinese_strings(feed, icaljs):
    items, body, identities = feed
    shown = calendars.shown_items(items, identities, TODAY)
    expected = {identities[i.ident].uid: i for i in shown}
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["X-WR-CALNAME"]) == "Study calendar"
    by_icalendar = {
        str(e["UID"]): (str(e["SUMMARY"]), str(e["DESCRIPTION"])) for e in calendar.walk("VEVENT")
    }
    assert by_icalendar == {uid: (i.summary, i.description) for uid, i in expected.items()}
    (view,) = read_with_icaljs([body])
    assert not isinstance(view, Exception)
    assert {e.uid: e.summary for e in view.events} == {
        uid: i.summary for uid, i in expected.items()
    }
