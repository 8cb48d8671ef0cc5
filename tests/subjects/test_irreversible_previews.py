"""No one-click irreversible action: deactivating an account, withdrawing a calendar link and
voiding a record each go through a page that says what will change and asks for a reason and a
confirmation; a form posted without them stores nothing. On the demo trial."""

from __future__ import annotations

import re

from sqlmodel import select
from web_fixtures import PASSWORD

from scheduler.models import FeedToken, StaffUser, Void


def _active(units, name: str) -> bool:
    with units() as unit:
        return unit.session.exec(select(StaffUser.active).where(StaffUser.name == name)).one()


def test_deactivation_preselects_no_account_and_never_offers_ones_own(staff_client, units):
    staff_client("nurse")
    admin = staff_client("admin")
    page = admin.get("/admin/staff").text
    form = page[page.index('id="deactivate-form"') :]
    form = form[: form.index("</form>")]
    assert "selected" not in form and '<option value="">(choose an account)</option>' in form
    offered = re.findall(r"<option\s*>([^<]+)</option>", form)
    assert "test-nurse" in offered and "test-admin" not in offered


def test_deactivating_goes_through_a_preview_with_reason_and_confirmation(staff_client, units):
    nurse = staff_client("nurse")
    admin = staff_client("admin")
    preview = admin.get(
        "/admin/staff/deactivate-preview", params={"name": "test-nurse", "reason": "left"}
    )
    assert preview.status_code == 200
    assert "test-nurse (nurse) can no longer log in or sign." in preview.text
    assert "Their 1 open login session ends at once." in preview.text
    unconfirmed = admin.form("/admin/staff/deactivate", {"name": "test-nurse", "reason": "left"})
    assert unconfirmed.status_code == 422 and _active(units, "test-nurse")
    done = admin.form(
        "/admin/staff/deactivate", {"name": "test-nurse", "reason": "left", "confirm": "yes"}
    )
    assert done.status_code == 200 and not _active(units, "test-nurse")
    assert nurse.get("/subjects/DEMO-002", follow_redirects=False).status_code == 303


def test_an_admin_cannot_deactivate_their_own_account_nor_the_last_admin(staff_client, units):
    admin = staff_client("admin")
    preview = admin.get("/admin/staff/deactivate-preview", params={"name": "test-admin"})
    assert preview.status_code == 409 and "you cannot deactivate your own account" in preview.text
    posted = admin.form(
        "/admin/staff/deactivate", {"name": "test-admin", "reason": "x", "confirm": "yes"}
    )
    assert posted.status_code == 409 and _active(units, "test-admin")


def test_withdrawing_a_calendar_link_asks_a_reason_and_a_confirmation(staff_client, units):
    nurse = staff_client("nurse")
    nurse.form("/subjects/DEMO-002/feed", {"reason": "first link"})
    preview = nurse.get("/subjects/DEMO-002/feed/revoke-preview", params={"reason": "lost"})
    assert preview.status_code == 200 and "stops working at once" in preview.text
    blank = nurse.form("/subjects/DEMO-002/feed/revoke", {"reason": " ", "confirm": "yes"})
    assert blank.status_code == 422 and "Not done: reason" in blank.text
    with units() as unit:
        live = unit.session.exec(select(FeedToken).where(FeedToken.revoked_at.is_(None))).all()
    assert len(live) == 1


def test_each_record_row_offers_void_or_correct_through_a_preview(staff_client, units):
    nurse = staff_client("nurse")
    page = nurse.get("/subjects/DEMO-004").text
    links = re.findall(r'href="(/subjects/DEMO-004/records/hold/\d+/void)"', page)
    assert len(links) == 1
    preview = nurse.get(links[0])
    assert preview.status_code == 200 and "is struck out" in preview.text
    assert "Status now on hold, then on treatment." in preview.text
    unconfirmed = nurse.form(links[0], {"reason": "wrong subject"})
    assert unconfirmed.status_code == 422
    with units() as unit:
        assert unit.session.exec(select(Void)).all() == []
    done = nurse.form(
        links[0], {"reason": "wrong subject", "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/subjects/DEMO-004?done=void"


def test_an_investigator_voiding_a_signed_hold_goes_on_to_sign_the_void(staff_client, units):
    investigator = staff_client("investigator")
    page = investigator.get("/subjects/DEMO-004").text
    [hold] = re.findall(r'href="/signatures/(hold-\d+)"', page)
    sign_page = investigator.get(f"/signatures/{hold}").text
    digest = re.search(r'name="record_sha256" value="([0-9a-f]{64})"', sign_page).group(1)
    signed = investigator.form(
        f"/signatures/{hold}",
        {"user_name": "test-investigator", "password": PASSWORD, "record_sha256": digest},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    void_url = f"/subjects/DEMO-004/records/hold/{hold.split('-')[1]}/void"
    done = investigator.form(
        void_url, {"reason": "entered in error", "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/signatures/void-")


def test_a_resumption_past_the_hold_limit_is_confirmed_then_signed_with_a_reason(
    staff_client, units
):
    investigator = staff_client("investigator")
    values = {"on": "2026-03-20", "reason": "toxicity resolved late, patient responding"}
    preview = investigator.get("/subjects/DEMO-004/resume-preview", params=values)
    assert preview.status_code == 200 and 'id="override"' in preview.text
    assert "over the 14-day limit" in preview.text
    unconfirmed = investigator.form("/subjects/DEMO-004/resumptions", values)
    assert unconfirmed.status_code == 422 and "confirm continuing past the limit" in (
        unconfirmed.text
    )
    confirmed = investigator.form(
        "/subjects/DEMO-004/resumptions", {**values, "confirm": "yes"}, follow_redirects=False
    )
    assert confirmed.status_code == 303
    sign_page = investigator.get(confirmed.headers["location"]).text
    assert 'id="deviation"' in sign_page and "continues past the protocol" in sign_page
    digest = re.search(r'name="record_sha256" value="([0-9a-f]{64})"', sign_page).group(1)
    no_reason = investigator.form(
        confirmed.headers["location"],
        {"user_name": "test-investigator", "password": PASSWORD, "record_sha256": digest},
    )
    assert no_reason.status_code == 422 and "Not signed: reason" in no_reason.text


def test_the_new_forms_refuse_a_post_without_the_sessions_csrf_token(staff_client, units):
    nurse = staff_client("nurse")
    admin = staff_client("admin")
    page = nurse.get("/subjects/DEMO-004").text
    [void_url] = re.findall(r'href="(/subjects/DEMO-004/records/hold/\d+/void)"', page)
    posts = [
        (nurse, void_url, {"reason": "wrong subject", "confirm": "yes"}),
        (nurse, "/subjects/DEMO-002/feed/revoke", {"reason": "lost", "confirm": "yes"}),
        (admin, "/admin/staff/deactivate", {"name": "test-nurse", "reason": "x", "confirm": "yes"}),
    ]
    for client, url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    with units() as unit:
        assert unit.session.exec(select(Void)).all() == []
    assert _active(units, "test-nurse")
