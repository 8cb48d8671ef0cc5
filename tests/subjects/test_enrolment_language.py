"""The patient's language at enrolment, from the page and the JSON API as from ``dosing enroll
--language``: the language named, else the site's; anything the app does not ship is refused
naming ``language``, and nothing is stored."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from scheduler.models import Site, Subject

FORM = {
    "subject": "S-014",
    "site": "ZJU1",
    "protocol": "NCT03945799",
    "c1d1": "2026-03-09",
    "surgery": "2026-02-01",
    "tz": "",
    "dose_time": "",
    "reason": "",
}
BODY = {"subject": "S-015", "site": "ZJU1", "c1d1": "2026-03-09", "surgery": "2026-02-01"}


def _language_of(units, code: str) -> str | None:
    with units() as unit:
        row = unit.session.exec(select(Subject).where(Subject.code == code)).first()
        return None if row is None else row.language


def _subjects(units) -> int:
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(Subject)).one()


def _site_reads(units, language: str) -> None:
    with units() as unit:
        site = unit.session.exec(select(Site).where(Site.code == "ZJU1")).one()
        site.language = language
        unit.session.add(site)


@pytest.mark.parametrize(
    ("chosen", "site", "expected"),
    [("zh_CN", "en", "zh_CN"), ("", "zh_CN", "zh_CN"), ("", "en", "en")],
)
def test_the_enrolment_page_takes_the_language_or_the_sites(
    staff_client, units, chosen, site, expected
):
    _site_reads(units, site)
    nurse = staff_client("nurse")
    form = nurse.get("/subjects/new").text
    assert 'name="language"' in form and "简体中文" in form
    answer = nurse.form("/subjects", {**FORM, "language": chosen}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert _language_of(units, "S-014") == expected


def test_the_enrolment_page_refuses_a_language_it_does_not_ship(staff_client, units):
    before = _subjects(units)
    answer = staff_client("nurse").form("/subjects", {**FORM, "language": "fr"})
    assert answer.status_code == 422
    assert 'id="enrol-language"' in answer.text and 'aria-invalid="true"' in answer.text
    assert "expected one of en, zh_CN" in answer.text
    assert _subjects(units) == before


def test_the_api_enrols_in_the_language_named_or_the_sites(staff_client, units):
    nurse = staff_client("nurse")
    named = nurse.post("/api/subjects", json={**BODY, "language": "zh_CN"})
    assert named.status_code == 201, named.text
    assert named.json()["language"] == "zh_CN" and named.json()["subject"] == "S-015"
    _site_reads(units, "zh_CN")
    default = nurse.post("/api/subjects", json={**BODY, "subject": "S-016"})
    assert default.status_code == 201 and _language_of(units, "S-016") == "zh_CN"


@pytest.mark.parametrize("language", ["fr", "zh-CN", "x" * 17])
def test_the_api_refuses_another_language_naming_it(staff_client, units, language):
    before = _subjects(units)
    answer = staff_client("nurse").post("/api/subjects", json={**BODY, "language": language})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "language"
    assert _subjects(units) == before


def test_a_pharmacist_may_not_enrol_through_the_api(staff_client, units):
    answer = staff_client("pharmacist").post("/api/subjects", json=BODY)
    assert answer.status_code == 403 and _language_of(units, "S-015") is None
