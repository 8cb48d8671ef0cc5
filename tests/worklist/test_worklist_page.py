"""The nurse's home page: today's worklist on the demo trial, with date and site pickers."""

import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest

from scheduler.app.cli import main
from scheduler.clock import SystemClock
from scheduler.models import Site
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.visits import record_visit
from scheduler.web.labels import words
from scheduler.worklist.pages import GROUP_ROWS
from scheduler.worklist.work_item import URGENCY_TITLES


@pytest.fixture
def nurse(staff_client):
    return staff_client("nurse")


def _rows(html: str, kind: str) -> list[str]:
    return re.findall(rf'data-kind="{kind}" data-subject="([^"]+)"', html)


def test_the_home_page_groups_todays_work_by_urgency(nurse):
    page = nurse.get("/")
    assert page.status_code == 200
    assert _rows(page.text, "on_hold") == ["DEMO-004"]
    assert "DEMO-001" in _rows(page.text, "visit_in_window")  # screening window open
    titles = re.findall(r"<h3>([^<(]+) \(", page.text)
    assert titles == sorted(titles, key=["Overdue or needs a decision", "Today",
                                         "Window open", "Keep an eye on"].index)  # fmt: skip
    assert 'href="/subjects/DEMO-004"' in page.text


def test_a_visit_recorded_done_leaves_the_page(nurse, units):
    before = nurse.get("/", params={"site": "ZJU1"}).text
    assert "DEMO-001" in _rows(before, "visit_in_window")
    with units() as unit:  # the screening visits of the protocol: SCR, and BASE from version 4
        record_visit(unit, "DEMO-001", "SCR", on=unit.now.date())
        record_visit(unit, "DEMO-001", "BASE", on=unit.now.date())
    after = nurse.get("/", params={"site": "ZJU1"}).text
    assert "DEMO-001" not in _rows(after, "visit_in_window")


def test_the_date_picker_shows_another_day(nurse):
    page = nurse.get("/", params={"date": "2026-03-30", "site": "ZJU1"})
    assert page.status_code == 200
    assert 'value="2026-03-30"' in page.text and "Monday 30 March 2026" in page.text


def _error_next_to(page: str, field: str) -> str:
    found = re.search(rf'id="worklist-{field}-error" role="alert">([^<]*)<', page)
    assert found, f"no error shown next to the {field} picker"
    return found.group(1)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-13-01", "is not a real date"),
        ("bad", "is not a date"),
        ("20260302", "is not a date"),
        ("2026-W10-1", "is not a date"),
        ("9999-12-31", "is outside 1900-2199"),  # was a 500: the date arithmetic overflowed
        ("0001-01-01", "is outside 1900-2199"),
    ],
)
def test_a_bad_date_is_said_next_to_the_date_picker_on_the_page(nurse, value, reason):
    response = nurse.get("/", params={"date": value, "site": "ZJU1"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert reason in _error_next_to(response.text, "date")
    assert f'name="date" value="{value}"' in response.text  # as typed, to correct it
    assert 'value="ZJU1" selected' in response.text and "data-kind" not in response.text


def test_an_unknown_site_is_said_next_to_the_site_picker(nurse):
    response = nurse.get("/", params={"site": "NOPE"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert _error_next_to(response.text, "site") == "no site &#39;NOPE&#39;"


def test_the_api_worklist_answers_a_bad_date_as_json_naming_the_field(nurse):
    for value in ("2026-13-01", "20260302", "9999-12-31", "0001-01-01"):
        response = nurse.get("/api/worklist", params={"date": value})
        assert response.status_code == 422, value
        assert response.json()["error"]["field"] == "date", value


class _WorklistRows(HTMLParser):
    """The page's worklist as (group title, subject, link, cells...) per row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, ...]] = []
        self._group = ""
        self._in: str | None = None
        self._row: list[str] | None = None
        self._link = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "h3":
            self._in, self._group = "h3", ""
        elif tag == "tr" and "data-kind" in found:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._row.append("")
            self._in = "td"
        elif tag == "a" and self._row is not None:
            self._link = found.get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h3", "td"):
            self._in = None
        elif tag == "tr" and self._row is not None:
            title = self._group.rsplit(" (", 1)[0].strip()
            self.rows.append((title, self._link, *(c.strip() for c in self._row)))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in == "h3":
            self._group += data
        elif self._in == "td" and self._row is not None:
            self._row[-1] += data


def _page_rows(html: str) -> list[tuple[str, ...]]:
    parser = _WorklistRows()
    parser.feed(html)
    return parser.rows


def _cli_rows(data: dict) -> list[tuple[str, ...]]:
    """The CLI's JSON items laid out as the page's rows (same order, same words)."""
    return [
        (
            URGENCY_TITLES[i["urgency"]],
            f"/subjects/{i['subject']}",
            i["subject"],
            words(i["kind"]),
            i["visit_code"] or i["what"],
            f"{i['window_start']} to {i['window_end']}" if i["window_start"] else "",
            i["target"] or "",
            f"{i['dose_mg']:g} mg" if i["dose_mg"] is not None else "",
            i["detail"],
        )
        for i in data["items"]
    ]


def test_the_cli_and_the_page_list_the_same_items_on_the_sites_today(
    nurse, db_url, capsys, monkeypatch
):
    """``dosing due --json`` and the home page, neither given a date: both draw the list for
    today at the site (02:30 on 2 March in Shanghai, still 1 March in UTC) and list the same
    items, in the same groups and order, with the same visit, window, target, dose and link."""
    monkeypatch.setattr(SystemClock, "now", lambda self: datetime(2026, 3, 1, 18, 30, tzinfo=UTC))
    with pytest.raises(SystemExit) as exit_info:
        main(["due", "--json", "--db", db_url, "--user", "test-nurse"])
        raise SystemExit(0)
    captured = capsys.readouterr()
    assert (exit_info.value.code or 0) == 0, captured.err
    data = json.loads(captured.out)
    assert data["date"] == "2026-03-02"
    page = _page_rows(nurse.get("/").text)
    assert page == _cli_rows(data)
    assert {"visit_in_window", "on_hold"} <= {i["kind"] for i in data["items"]}


@pytest.fixture
def busy_sites(units):
    """The demo's site with more subjects in screening than a group shows on the page of every
    site, and a second site, so the page holds two sites' lists."""
    with units() as unit:
        unit.session.add(Site(code="ZJU2", name="Second site", time_zone="Asia/Shanghai"))
    c1d1 = date(2026, 3, 12)
    for n in range(GROUP_ROWS + 3):
        with units() as unit:
            enroll(
                unit,
                f"S-{n:03d}",
                c1d1=c1d1,
                surgery=c1d1 - timedelta(days=35),
                site_code="ZJU1",
            )


def _sections(html: str) -> dict[str, str]:
    """Each site's part of the page, by site code."""
    parts = re.split(r'<section class="site-list" data-site="([^"]+)">', html)[1:]
    return dict(zip(parts[::2], parts[1::2], strict=True))


def _more_lines(section: str) -> list[tuple[str, str]]:
    """(the line's text, its link) of each group the page shortened."""
    return [
        (re.sub(r"<[^>]+>", "", line), unescape(link))
        for line in re.findall(r'<p class="more">(.*?)</p>', section)
        for link in re.findall(r'href="([^"]+)"', line)
    ]


def test_the_page_of_every_site_shows_each_groups_first_items_and_links_to_the_rest(
    nurse, busy_sites
):
    """Each group shows its first items, most urgent first, with its full count in the heading;
    under a shortened group, how many more and a link to the site's own page of the day, which
    shows every item. The API keeps every item."""
    data = nurse.get("/api/worklist").json()
    every = {code: _cli_rows({"items": [i for i in data["items"] if i["site"] == code]})
             for code in ("ZJU1", "ZJU2")}  # fmt: skip
    assert len(every["ZJU1"]) > GROUP_ROWS
    sections = _sections(nurse.get("/").text)
    assert set(sections) == {"ZJU1", "ZJU2"}
    shortened = []
    for code, section in sections.items():
        groups: dict[str, list[tuple[str, ...]]] = {}
        for row in every[code]:
            groups.setdefault(row[0], []).append(row)
        assert _page_rows(section) == [r for rows in groups.values() for r in rows[:GROUP_ROWS]]
        headings = re.findall(r"<h3>([^<(]+) \((\d+)\)</h3>", section)
        assert headings == [(title, str(len(rows))) for title, rows in groups.items()]
        expected = [
            (
                f"{len(rows) - GROUP_ROWS} more items in this group are not shown: "
                f"open {code}'s full list to see them all.",
                f"/?site={code}&date=2026-03-02",
            )
            for rows in groups.values()
            if len(rows) > GROUP_ROWS
        ]
        assert _more_lines(section) == expected
        shortened += expected
    assert shortened, "no group of the busy site was shortened"
    site_page = nurse.get(shortened[0][1])
    assert site_page.status_code == 200
    assert 'value="ZJU1" selected' in site_page.text
    assert _page_rows(site_page.text) == every["ZJU1"]
    assert '<p class="more">' not in site_page.text


def _largest_group(data: dict) -> int:
    return max(Counter(i["urgency"] for i in data["items"]).values())


def test_one_sites_page_shows_every_item(nurse, busy_sites):
    data = nurse.get("/api/worklist", params={"site": "ZJU1"}).json()
    assert _largest_group(data) > GROUP_ROWS
    page = nurse.get("/", params={"site": "ZJU1"}).text
    assert _page_rows(page) == _cli_rows(data)
    assert '<p class="more">' not in page


def test_the_count_of_items_not_shown_is_said_in_chinese(nurse, busy_sites):
    answer = nurse.form("/account/language", {"language": "zh_CN"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    data = nurse.get("/api/worklist", params={"site": "ZJU1"}).json()
    more = _largest_group(data) - GROUP_ROWS
    lines = [text for text, _ in _more_lines(_sections(nurse.get("/").text)["ZJU1"])]
    assert f"本组另有 {more} 项未显示：打开 ZJU1 的完整工作清单查看全部。" in lines


def test_the_page_of_every_site_builds_only_the_visits_it_shows(nurse, busy_sites, monkeypatch):
    """The open visits of every site are ranked and counted by the database: the page never
    reads them all (``dosing due`` and one site's page do)."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the page of every site read every open visit")

    monkeypatch.setattr("scheduler.worklist.items._visit_items", refuse)
    page = nurse.get("/")
    assert page.status_code == 200
    assert '<p class="more">' in page.text
    with pytest.raises(AssertionError, match="every open visit"):
        nurse.get("/", params={"site": "ZJU1"})
