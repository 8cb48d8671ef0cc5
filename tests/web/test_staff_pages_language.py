"""Every staff page in the account's language: a nurse, pharmacist, investigator or admin who
reads Chinese gets each page in Chinese (``<html lang="zh-CN">``, no English navigation, headings,
labels or buttons left), an English account keeps English pages, and the words the pages build
in Python (notices, status words, confirmations) follow the account too."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

TODAY = "2026-03-02"  # the fixed clock's date at the demo site
PAGES = [
    ("nurse", "/"),
    ("nurse", "/subjects/DEMO-002"),
    ("nurse", "/subjects/DEMO-003"),
    ("pharmacist", "/pharmacy"),
    ("pharmacist", "/pharmacy/subjects/DEMO-002"),
    ("nurse", "/audit"),
    ("nurse", "/audit?subject=DEMO-003"),
    ("admin", "/admin/staff"),
    ("admin", "/admin/reminders"),
    ("nurse", "/subjects/new"),
    ("nurse", "/subjects/DEMO-002/labs"),
    ("nurse", "/overview"),
    ("nurse", "/exports"),
    ("nurse", "/subjects/DEMO-002/day1"),
    ("nurse", "/subjects?q=DEMO"),
    ("nurse", "/subjects/DEMO-002/feed"),
    ("nurse", f"/subjects/DEMO-002/hold-preview?from={TODAY}&reason=x"),
    ("nurse", "/account"),
    ("nurse", "/subjects/DEMO-001/eligibility"),
    ("investigator", "/subjects/DEMO-001/eligibility"),
    ("investigator", "/subjects/DEMO-001/screen-failure-preview"),
    ("nurse", "/screening-log"),
    ("nurse", "/appointments"),
    ("nurse", "/subjects/DEMO-002/appointments"),
    ("nurse", "/subjects/DEMO-002/patient-page"),
    ("nurse", "/subjects/DEMO-002/patient-page/revoke-preview"),
    ("nurse", "/subjects/DEMO-002/patient-page/reissue-preview"),
]
UI_WORDS = (
    "Worklist",
    "Study overview",
    "Pharmacy",
    "Enrol",
    "Exports",
    "Audit",
    "Accounts",
    "Reminders",
    "Log out",
    "Find",
    "Subject code",
    "Skip to",
    "Status",
    "Reason",
    "Record",
    "Nothing",
    "Show",
    "Site",
    "Date",
    "Dose",
    "Save",
    "Cancel",
    "Preview",
    "Download",
    "Role",
    "Password",
    "Sign",
    "Read only",
    "Capsules",
    "Window",
    "Detail",
    "Label",
    "Language",
    "Confirm",
    "None",
    "Issue",
    "Change",
    "planned",
    "Screened",
    "Withdraw",
    "Waive",
    "Answer",
)
"""Words of the pages' own text (the catalogue's), none of which the demo's data holds."""


class _VisibleText(HTMLParser):
    """What a reader sees: text outside scripts, styles and drawings, and the placeholders,
    labels and titles of elements."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "svg"):
            self._hidden += 1
        self.parts += [v for k, v in attrs if k in ("placeholder", "aria-label", "title") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "svg"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def english_left(html: str) -> list[str]:
    text = visible_text(html)
    return [w for w in UI_WORDS if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]


def reading(client, language: str):
    """The client after its account chose ``language`` on its own account page."""
    answer = client.form("/account/language", {"language": language}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


@pytest.fixture
def chinese(staff_client):
    made = {}

    def client(role: str):
        if role not in made:
            made[role] = reading(staff_client(role), "zh_CN")
        return made[role]

    return client


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_staff_page_is_chinese_for_an_account_that_reads_chinese(chinese):
    for role, path in PAGES:
        page = chinese(role).get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert '<html lang="zh-CN">' in page.text, path
        assert english_left(page.text) == [], path
        assert "工作清单" in page.text, path  # the navigation


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_signing_page_is_chinese_too(chinese):
    subject = chinese("investigator").get("/subjects/DEMO-003").text
    labels = re.findall(r'href="/signatures/([^"]+)"', subject)
    assert labels, "the demo has a decision awaiting a signature"
    page = chinese("investigator").get(f"/signatures/{labels[0]}")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert english_left(page.text) == []
    assert "您的签名表示" in page.text


def test_the_drawings_speak_the_accounts_language(chinese):
    subject = chinese("nurse").get("/subjects/DEMO-003").text
    assert "DEMO-003 的治疗时间线" in subject and "Treatment timeline" not in subject
    assert "访视已完成" in subject and "Before C1" not in subject  # the legend, the rows
    overview = chinese("nurse").get("/overview").text
    assert "的泳道图" in overview and "days from C1D1" not in overview


def test_an_english_account_keeps_english_pages(staff_client):
    nurse = staff_client("nurse")
    page = nurse.get("/")
    assert '<html lang="en">' in page.text
    assert "Worklist" in visible_text(page.text) and "工作清单" not in page.text
    subject = nurse.get("/subjects/DEMO-003").text
    assert "Record" in visible_text(subject) and "Adverse events" in visible_text(subject)


def test_notices_and_status_words_follow_the_account(staff_client):
    nurse = reading(staff_client("nurse"), "zh_CN")
    answer = nurse.form(
        "/subjects/DEMO-002/doses",
        {"date": "2026-03-01", "outcome": "taken", "at": "", "reason": ""},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = nurse.get(answer.headers["location"]).text
    assert "给药已记录。" in page and "Dose recorded." not in page
    assert "治疗中" in page  # on_treatment, in the heading's status


def test_a_refused_form_sums_up_in_chinese_around_the_services_reason(staff_client):
    nurse = reading(staff_client("nurse"), "zh_CN")
    answer = nurse.form("/subjects/DEMO-002/doses", {"date": "", "outcome": "taken"})
    assert answer.status_code in (400, 422)
    assert "未记录任何内容" in answer.text and "Nothing was recorded" not in answer.text


def test_a_refused_enrolment_sums_up_in_chinese(staff_client):
    nurse = reading(staff_client("nurse"), "zh_CN")
    answer = nurse.form("/subjects", {"subject": "S-1", "site": "ZJU1", "c1d1": "2026-13-01"})
    assert answer.status_code == 422
    assert "未记录任何内容" in answer.text and "Nothing was recorded" not in answer.text


def test_the_login_page_follows_the_browsers_language_before_anyone_logs_in(web_app):
    from fastapi.testclient import TestClient

    client = TestClient(web_app)
    chinese = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-CN">' in chinese.text and "登录" in chinese.text
    english = client.get("/login", headers={"Accept-Language": "de-DE,fr;q=0.8"})
    assert '<html lang="en">' in english.text and "Log in" in english.text
