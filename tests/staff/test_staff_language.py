"""The language of a staff account's pages: English unless chosen, set by an admin (page, CLI,
API at creation) with a reason, or by the account's owner on their own page; every change is
audited (``staff.language``), and a language the app does not ship is refused naming
``language`` with nothing stored."""

from __future__ import annotations

import json

import pytest
from cli_runner import run
from sqlmodel import select

from scheduler.errors import Conflict, InputError
from scheduler.models import AuditEntry, StaffUser
from scheduler.staff.accounts import create_staff, list_staff, set_language

PASSWORD = "correct horse battery staple"


def _language_entries(units) -> list[tuple[str, str | None, str | None, str]]:
    with units() as unit:
        rows = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "staff.language")
        ).all()
    return [(e.actor, e.old_value, e.new_value, e.reason) for e in rows]


def test_an_account_reads_english_until_its_language_is_chosen(units):
    with units("admin") as unit:
        staff = create_staff(unit, "li.na", role="nurse", password=PASSWORD)
        chinese = create_staff(unit, "wang.fang", role="nurse", password=PASSWORD, language="zh-CN")
    assert staff.language == "en" and chinese.language == "zh_CN"
    with units() as unit:
        assert {a.name: a.language for a in list_staff(unit.session, unit.now)} == {
            "li.na": "en",
            "wang.fang": "zh_CN",
        }


def test_an_owner_changes_their_own_language_without_a_reason_an_admin_gives_one(units):
    with units("admin") as unit:
        create_staff(unit, "li.na", role="nurse", password=PASSWORD)
    with units("li.na") as unit:
        assert set_language(unit, "li.na", "zh_CN").language == "zh_CN"
    with units("admin") as unit, pytest.raises(InputError) as refused:
        set_language(unit, "li.na", "en")
    assert refused.value.field == "reason"
    with units("admin") as unit:
        set_language(unit, "li.na", "en", reason="reads English")
    assert _language_entries(units) == [
        ("li.na", '{"language": "en"}', '{"language": "zh_CN"}', ""),
        ("admin", '{"language": "zh_CN"}', '{"language": "en"}', "reads English"),
    ]


@pytest.mark.parametrize(("language", "error"), [("fr", InputError), ("en", Conflict)])
def test_an_unknown_or_unchanged_language_is_refused_naming_it(units, language, error):
    with units("admin") as unit:
        create_staff(unit, "li.na", role="nurse", password=PASSWORD)
    with units("admin") as unit, pytest.raises(error) as refused:
        set_language(unit, "li.na", language, reason="asked")
    assert refused.value.field == "language"
    assert _language_entries(units) == []


def test_dosing_user_adds_lists_and_changes_the_language(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    argv = ["user", "add", "wang.fang", "--role", "nurse", "--password-stdin"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", __import__("io").StringIO(PASSWORD + "\n"))
        code, _, err = run(capsys, *argv, "--language", "zh_CN", "--db", url)
    assert code == 0, err
    code, out, _ = run(capsys, "user", "list", "--json", "--db", url)
    assert {a["name"]: a["language"] for a in json.loads(out)}["wang.fang"] == "zh_CN"
    code, _, err = run(capsys, "user", "language", "wang.fang", "en", "--db", url)
    assert code == 2 and "reason" in err
    code, _, err = run(capsys, "user", "language", "wang.fang", "de", "--reason", "x", "--db", url)
    assert code == 2 and err.startswith("error: language:")
    argv = ["user", "language", "wang.fang", "en", "--reason", "reads English"]
    code, out, _ = run(capsys, *argv, "--db", url)
    assert code == 0 and out.strip() == "wang.fang reads en"


def test_an_admin_sets_an_accounts_language_on_the_accounts_page(staff_client, units):
    admin = staff_client("admin")
    staff_client("nurse")
    refused = admin.form(
        "/admin/staff/language", {"name": "test-nurse", "language": "zh_CN", "reason": ""}
    )
    assert refused.status_code == 422 and 'id="language-form"' in refused.text
    done = admin.form(
        "/admin/staff/language",
        {"name": "test-nurse", "language": "zh_CN", "reason": "reads Chinese"},
    )
    assert done.status_code == 200 and "The language of test-nurse&#39;s pages was changed." in (
        done.text
    )
    with units() as unit:
        row = unit.session.exec(select(StaffUser).where(StaffUser.name == "test-nurse")).one()
    assert row.language == "zh_CN"
    assert staff_client("nurse").get("/").text.count('<html lang="zh-CN">') == 1


def test_any_account_changes_its_own_language_from_its_page(staff_client, units):
    pharmacist = staff_client("pharmacist")
    assert 'href="/account"' in pharmacist.get("/pharmacy").text
    page = pharmacist.form("/account/language", {"language": "zh_CN"})
    assert page.status_code == 200 and "您的页面语言已更改。" in page.text
    refused = pharmacist.form("/account/language", {"language": "zh_CN"})
    assert refused.status_code == 409 and "language" in refused.text
    bad = pharmacist.form("/account/language", {"language": "klingon"})
    assert bad.status_code == 422 and "未做任何更改" in bad.text
    assert [(actor, reason) for actor, _, _, reason in _language_entries(units)] == [
        ("test-pharmacist", "")
    ]


def test_the_api_creates_an_account_with_its_language(web_app, staff_client):
    from fastapi.testclient import TestClient

    admin = TestClient(web_app, headers={"Authorization": f"Bearer {staff_client('admin').token}"})
    body = {"name": "wang.fang", "role": "nurse", "password": PASSWORD, "language": "zh_CN"}
    added = admin.post("/api/staff", json=body)
    assert added.status_code == 201 and added.json()["language"] == "zh_CN"
    refused = admin.post("/api/staff", json={**body, "name": "li.na", "language": "fr"})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "language"
