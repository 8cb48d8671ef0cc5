"""The printed handout of a Chinese patient fits one A4 page (Chromium's print to PDF), with
a diary for the rest of the cycle and the next one, and reads Chinese throughout."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import dosing

pytestmark = pytest.mark.slow


def _cjk_font() -> bool:
    done = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(done.stdout.strip())


def test_the_chinese_handout_prints_on_one_a4_page(demo_db, log_in_as):
    if not _cjk_font():
        pytest.skip("no Chinese font: apt-get install fonts-wqy-zenhei (./dev.sh test does)")
    c1d1 = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=3)  # the site's today
    surgery = c1d1 - timedelta(days=35)
    # Every CLI write acts as a real staff account: the demo's nurse enrols, as on the web.
    dosing(
        demo_db,
        "enroll", "ZH-001", "--c1d1", c1d1.isoformat(), "--surgery", surgery.isoformat(),
        "--site", "ZJU1", "--language", "zh_CN", "--user", "demo-nurse",
    )  # fmt: skip
    page = log_in_as("demo-nurse")
    page.goto("/subjects/ZH-001/handout")
    handout = page.locator("div.handout")
    assert handout.get_attribute("lang") == "zh-CN"
    text = handout.inner_text()
    assert "您的研究服药日记" in text and "您接下来的访视" in text
    assert "第 14 天（共 14 天）" in text
    assert not re.search(r"\b(Your|Take|Cycle|Day|Visit)\b", text), text
    # Today is C1 D4: the rest of cycle 1 and the whole of cycle 2, 11 + 14 rows.
    assert page.locator("table.diary tr:has(td.box)").count() == 25
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
