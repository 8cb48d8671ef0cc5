"""A nurse whose account reads Chinese gets the worklist in Chinese on a phone (390x844) in
real Chromium: ``lang="zh-CN"``, the navigation and headings in Chinese, no sideways scrolling
and no serious or critical axe-core violation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, VIEWPORTS

pytestmark = pytest.mark.slow

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
SERIOUS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
}"""
PASSWORD = "zh-nurse-password"


def _add_chinese_nurse(url: str) -> None:
    """``dosing user add`` by the demo's admin, the password on stdin as a script gives it."""
    argv = ["user", "add", "zh-nurse", "--role", "nurse", "--language", "zh_CN"]
    who = ["--password-stdin", "--user", "demo-admin", "--db", url]
    subprocess.run(
        [sys.executable, "-m", "scheduler", *argv, *who],
        cwd=REPO,
        env={**os.environ, "DOSING_USER": "browser-setup"},
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )


def test_the_chinese_worklist_fits_a_phone(demo_db, browser, server):
    _add_chinese_nurse(demo_db)
    width, height = VIEWPORTS["phone"]
    context = browser.new_context(
        base_url=server, viewport={"width": width, "height": height}, bypass_csp=True
    )
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("User name").fill("zh-nurse")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{server}/")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.locator("h1").inner_text() == "工作清单"
        nav = page.get_by_role("navigation", name="主导航").inner_text()
        assert "研究概览" in nav and "Worklist" not in nav
        overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1], f"scrolls sideways ({overflow[0]} > {overflow[1]})"
        page.evaluate(AXE)
        assert page.evaluate(SERIOUS) == []
    finally:
        context.close()
