"""Dates, times and lists as each language writes them (Babel's CLDR data)."""

from __future__ import annotations

from datetime import date, time

import pytest

from scheduler.i18n import wording


def test_chinese_dates_times_and_lists():
    words = wording("zh_CN")
    assert words.day(date(2026, 3, 2)) == "3月2日 星期一"
    assert words.short_day(date(2026, 3, 7)) == "3月7日周六"
    assert words.time(time(7, 0)) == "07:00"
    assert words.enumerate(["身份证", "用药清单", "血压记录"]) == "身份证、用药清单和血压记录"
    assert words.html_lang == "zh-CN"
    assert words.gettext("Study capsule") == "研究用胶囊"


def test_english_is_the_source_text_with_iso_dates():
    words = wording("en")
    assert words.day(date(2026, 3, 2)) == "2026-03-02"
    assert words.time(time(7, 0)) == "07:00"
    assert words.enumerate(["ID", "medication list"]) == "ID, medication list"
    assert words.gettext("Study capsule") == "Study capsule"


def test_a_language_without_a_catalogue_is_refused():
    with pytest.raises(ValueError, match="fr"):
        wording("fr")
