"""Signing in the web app: an investigator signs a decision with user name and password at the
first signing of the session, the password alone after that; a wrong password, a stale preview,
a nurse or a form without its CSRF token sign nothing. On the demo trial (DEMO-004 is on hold,
recorded by a nurse and not yet signed; DEMO-005 was discontinued)."""

from __future__ import annotations

import re

from sqlmodel import select
from web_fixtures import PASSWORD

from scheduler.models import AuditEntry, Signature


def _awaiting(client, code: str) -> list[str]:
    return re.findall(r'href="/signatures/([a-z_0-9]+-\d+)"', client.get(f"/subjects/{code}").text)


def test_an_investigator_signs_with_name_and_password_first_then_the_password_alone(
    staff_client, units
):
    investigator = staff_client("investigator")
    [hold] = _awaiting(investigator, "DEMO-004")
    assert hold.startswith("hold-")
    page = investigator.get(f"/signatures/{hold}")
    assert page.status_code == 200
    assert 'name="user_name"' in page.text and "approved: hold from" in page.text
    digest = re.search(r'name="record_sha256" value="([0-9a-f]{64})"', page.text).group(1)
    signed = investigator.form(
        f"/signatures/{hold}",
        {"user_name": "test-investigator", "password": PASSWORD, "record_sha256": digest},
        follow_redirects=False,
    )
    assert (
        signed.status_code == 303 and signed.headers["location"] == "/subjects/DEMO-004?done=signed"
    )
    shown = investigator.get("/subjects/DEMO-004").text
    assert "signed by test-investigator" in shown and f"/signatures/{hold}" not in shown
    [discontinuation] = _awaiting(investigator, "DEMO-005")
    second = investigator.get(f"/signatures/{discontinuation}").text
    assert 'name="user_name"' not in second and 'name="password"' in second


def test_a_wrong_password_or_another_users_name_signs_nothing_and_is_audited(staff_client, units):
    investigator = staff_client("investigator")
    staff_client("nurse")
    [hold] = _awaiting(investigator, "DEMO-004")
    wrong = investigator.form(
        f"/signatures/{hold}", {"user_name": "test-investigator", "password": "guess it wrong"}
    )
    assert wrong.status_code == 401 and "Not signed: password" in wrong.text
    other = investigator.form(
        f"/signatures/{hold}", {"user_name": "test-nurse", "password": PASSWORD}
    )
    assert other.status_code == 401 and "Not signed: user_name" in other.text
    with units() as unit:
        assert unit.session.exec(select(Signature)).all() == []
        failed = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "signature.failed")
        ).all()
    assert [f.actor for f in failed] == ["test-investigator", "test-investigator"]


def test_a_stale_preview_is_refused(staff_client, units):
    investigator = staff_client("investigator")
    [hold] = _awaiting(investigator, "DEMO-004")
    stale = investigator.form(
        f"/signatures/{hold}",
        {"user_name": "test-investigator", "password": PASSWORD, "record_sha256": "0" * 64},
    )
    assert stale.status_code == 409 and "Not signed: preview" in stale.text


def test_a_nurse_posting_the_signature_form_directly_is_refused(staff_client, units):
    investigator = staff_client("investigator")
    [hold] = _awaiting(investigator, "DEMO-004")
    nurse = staff_client("nurse")
    refused = nurse.form(f"/signatures/{hold}", {"user_name": "test-nurse", "password": PASSWORD})
    assert refused.status_code == 403
    assert 'href="/signatures/' not in nurse.get("/subjects/DEMO-004").text
    with units() as unit:
        assert unit.session.exec(select(Signature)).all() == []


def test_the_signature_form_without_its_csrf_token_is_refused(staff_client, units):
    investigator = staff_client("investigator")
    [hold] = _awaiting(investigator, "DEMO-004")
    refused = investigator.post(
        f"/signatures/{hold}", data={"user_name": "test-investigator", "password": PASSWORD}
    )
    assert refused.status_code == 403
    with units() as unit:
        assert unit.session.exec(select(Signature)).all() == []


def test_the_api_lists_signatures_and_what_awaits_one(staff_client):
    nurse = staff_client("nurse")
    answer = nurse.get("/api/subjects/DEMO-004/signatures")
    assert answer.status_code == 200
    body = answer.json()
    assert body["signed"] == []
    assert [r["record"].split("-")[0] for r in body["awaiting_signature"]] == ["hold"]


def test_resuming_at_another_dose_than_the_rule_proposes_is_said_and_needs_a_reason(
    staff_client, units
):
    investigator = staff_client("investigator")
    same = {"on": "2026-03-04", "dose_mg": "", "reason": ""}
    preview = investigator.get("/subjects/DEMO-004/resume-preview", params=same)
    assert preview.status_code == 200 and 'id="dose-deviation"' in preview.text
    assert "proposes resuming at 10 mg after diarrhea grade 3" in preview.text
    assert "this resumes at 12 mg" in preview.text
    reduced = investigator.get(
        "/subjects/DEMO-004/resume-preview", params={**same, "dose_mg": "10"}
    )
    assert 'id="dose-deviation"' not in reduced.text
    done = investigator.form("/subjects/DEMO-004/resumptions", same, follow_redirects=False)
    sign_page = investigator.get(done.headers["location"]).text
    assert 'id="deviation"' in sign_page and "this resumes at 12 mg" in sign_page
    digest = re.search(r'name="record_sha256" value="([0-9a-f]{64})"', sign_page).group(1)
    base = {"user_name": "test-investigator", "password": PASSWORD, "record_sha256": digest}
    refused = investigator.form(done.headers["location"], base)
    assert refused.status_code == 422 and "Not signed: reason" in refused.text
    signed = investigator.form(
        done.headers["location"],
        {**base, "reason": "diarrhoea resolved fully, full dose"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    with units() as unit:
        signature = unit.session.exec(select(Signature)).one()
    assert signature.reason == "diarrhoea resolved fully, full dose"
