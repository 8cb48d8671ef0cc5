"""The patient's private page on a phone (390x844) in Chinese, in Debian's Chromium: it reads
Chinese throughout, never scrolls sideways, and reporting today's dose and a home blood
pressure works. No staff login: the link is the key."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import dosing

pytestmark = pytest.mark.slow


def _fits_the_width(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_a_chinese_patient_reports_a_dose_and_a_reading_on_a_phone(demo_db, browser, server):
    c1d1 = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=3)  # a dosing day
    dosing(
        demo_db,
        "enroll", "ZH-PAGE", "--c1d1", c1d1.isoformat(), "--surgery",
        (c1d1 - timedelta(days=35)).isoformat(), "--site", "ZJU1", "--language", "zh_CN",
        "--dose-time", "07:00", "--user", "demo-nurse",
    )  # fmt: skip
    url = dosing(demo_db, "patient", "link", "ZH-PAGE", "--user", "demo-nurse").strip()
    token = url.rsplit("/p/", 1)[1]
    context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        response = page.goto(f"/p/{token}")
        assert response.status == 200
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        text = page.locator("main").inner_text()
        assert "您的药" in text and "您的下次预约" in text and "请致电研究团队" in text
        assert not re.search(r"\b(Your|Today|Taken|dose|appointment)\b", text), text
        assert _fits_the_width(page)
        page.get_by_role("button", name="我已服药").click()
        page.wait_for_load_state()
        assert "已保存：您" in page.locator("#message").inner_text()
        assert "服药。" in page.locator("#doses").inner_text()
        assert page.get_by_role("button", name="我已服药").count() == 0
        page.get_by_label("上面的数字（收缩压）").fill("150")
        page.get_by_label("下面的数字（舒张压）").fill("95")
        page.get_by_role("button", name="提交我的血压").click()
        page.wait_for_load_state()
        assert "150/95" in page.locator("#message").inner_text()
        assert _fits_the_width(page)
    finally:
        context.close()
    reports = dosing(demo_db, "patient", "reports", "ZH-PAGE", "--user", "demo-nurse")
    assert "awaiting review" in reports and "150/95" in reports
