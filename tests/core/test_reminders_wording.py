"""Reminder titles and bodies in the subject's language: whole sentences of the catalogue with
the date and time in its format, and nothing else (no drug, no record text)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from scheduler import core
from scheduler.core.reminders import wanted_reminders
from scheduler.i18n import wording

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # noon in Shanghai, C1D1


def _plan(anlotinib):
    anchors = core.Anchors(
        subject="S-014",
        c1d1=date(2026, 3, 2),
        surgery=date(2026, 1, 26),
        time_zone=ZoneInfo("Asia/Shanghai"),
        dose_time=time(8, 0),
    )
    return core.build_plan(anlotinib, anchors, core.History(), date(2026, 3, 2))


def _wanted(plan, language, **extra):
    return {
        (w.kind, w.item_key): w
        for w in wanted_reminders(
            plan,
            NOW,
            horizon_days=20,
            dose_grace_hours=None,
            visit_time=time(18, 0),
            visit_grace_hours=6,
            wording=wording(language),
            **extra,
        )
    }


def test_a_chinese_subject_gets_chinese_dose_and_visit_reminders(anlotinib):
    wanted = _wanted(_plan(anlotinib), "zh_CN")
    dose = wanted[("dose", "C1D2")]
    assert dose.title == "服药提醒 3月3日 星期二"
    assert dose.body == "S-014，3月3日 星期二：请在 08:00 服用 12 mg。"
    visit = wanted[("visit", "C1D15")]
    assert visit.title == "访视提醒 3月16日 星期一"
    assert visit.body == "S-014，3月16日 星期一：明天到医院访视。请携带：服药日记和血压记录。"


def test_the_collect_first_sentence_is_translated_whole(anlotinib):
    wanted = _wanted(_plan(anlotinib), "zh_CN", new_capsules_on=frozenset({date(2026, 3, 3)}))
    assert wanted[("dose", "C1D2")].body == (
        "S-014，3月3日 星期二：您的剂量已改为 12 mg。在 08:00 服用 12 mg 之前，"
        "请先到研究药房领取新的胶囊。不要用原来的胶囊代替。"
    )


def test_english_reminders_keep_their_words(anlotinib):
    wanted = _wanted(_plan(anlotinib), "en")
    assert wanted[("dose", "C1D2")].body == "S-014, 2026-03-03: take your 12 mg dose due at 08:00."
    assert wanted[("visit", "C1D15")].body == (
        "S-014, 2026-03-16: clinic visit tomorrow. Please bring: dosing diary, blood pressure log."
    )
