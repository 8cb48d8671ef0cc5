"""An investigator signs each decision that changes treatment, with their password, bound to
the exact record (21 CFR 11.50, 11.70, 11.200). Through the services and `dosing sign`, on
SQLite and PostgreSQL. The subject starts cycle 1 on 2026-02-02; the clock reads 2026-03-02."""

from __future__ import annotations

import csv
import io
import json

import pytest
from cli_runner import ACCOUNTS, PASSWORD, ensure_accounts, run
from sqlalchemy.exc import DBAPIError
from sqlmodel import select, text

from scheduler.errors import Conflict, InputError, NotFound
from scheduler.models import AuditEntry, LoginFailure, Signature
from scheduler.signatures.records import parse_record_id
from scheduler.signatures.services import (
    SignatureRefused,
    awaiting_signature,
    sign,
    signatures_of,
)
from scheduler.subjects.corrections import void_record
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold

INVESTIGATOR = ACCOUNTS["investigator"]
NURSE = ACCOUNTS["nurse"]


@pytest.fixture
def held(units, db_url):
    """S-001 on hold from 2026-02-20, recorded by the nurse; returns the hold's id."""
    ensure_accounts(db_url)
    with units(actor=NURSE) as unit:
        enroll(unit, "S-001", c1d1="2026-02-02", surgery="2026-01-05", site_code="ZJU1")
    with units(actor=NURSE) as unit:
        hold(unit, "S-001", start="2026-02-20", reason="grade 3 hypertension")
    with units(actor=NURSE) as unit:
        return awaiting_signature(unit.session, "S-001")[0].id


def test_a_hold_recorded_by_a_nurse_awaits_signature_until_the_investigator_signs_it(units, held):
    with units(actor=INVESTIGATOR) as unit:
        waiting = awaiting_signature(unit.session, "S-001")
        assert [(r.label, r.meaning) for r in waiting] == [
            (f"hold-{held}", "approved: hold from 2026-02-20")
        ]
        sign(unit, "hold", held, password=PASSWORD)
    with units(actor=INVESTIGATOR) as unit:
        assert awaiting_signature(unit.session, "S-001") == []
        [line] = signatures_of(unit.session, "S-001")
    assert line.record == f"hold-{held}"
    assert line.signer_account == INVESTIGATOR and line.signer_name == INVESTIGATOR
    assert line.meaning == "approved: hold from 2026-02-20"
    assert line.signed_at == "2026-03-02T04:00:00Z"
    assert line.signed_local == "2026-03-02 12:00 +0800 (Asia/Shanghai)"
    assert line.valid and len(line.record_sha256) == 64


def test_a_wrong_password_signs_nothing_and_the_terminal_failure_is_audited_and_counted(
    units, held, db_url, capsys, monkeypatch
):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("scheduler.signatures.cli.getpass", lambda prompt: "not my password")
    status, out, err = run(capsys, "sign", f"hold-{held}", "--db", db_url)
    assert (status, out) == (2, "")
    assert err.startswith("error: password: wrong password")
    with units(actor=INVESTIGATOR) as unit:
        assert unit.session.exec(select(Signature)).all() == []
        failed = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "signature.failed")
        ).one()
        assert failed.actor == INVESTIGATOR
        assert json.loads(failed.new_value or "{}") == {"record": f"hold-{held}"}
        assert len(unit.session.exec(select(LoginFailure)).all()) == 1
        assert [r.label for r in awaiting_signature(unit.session, "S-001")] == [f"hold-{held}"]


def test_dosing_sign_at_a_terminal_signs_and_dosing_signatures_shows_it(
    units, held, db_url, capsys, monkeypatch
):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("scheduler.signatures.cli.getpass", lambda prompt: PASSWORD)
    status, out, err = run(capsys, "sign", f"hold-{held}", "--db", db_url)
    assert status == 0, err
    assert out == f"signed hold-{held} by {INVESTIGATOR}: approved: hold from 2026-02-20\n"
    status, out, _ = run(capsys, "signatures", "S-001", "--json", "--db", db_url)
    shown = json.loads(out)
    assert shown["awaiting_signature"] == []
    assert [s["record"] for s in shown["signed"]] == [f"hold-{held}"]
    status, out, _ = run(capsys, "signature-manifest", "--db", db_url)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["status"], r["record"], r["signer_account"], r["valid"]) for r in rows] == [
        ("signed", f"hold-{held}", INVESTIGATOR, "yes")
    ]


def test_without_a_terminal_dosing_sign_is_refused_and_the_hold_stays_awaiting(
    units, held, db_url, capsys
):
    status, out, err = run(capsys, "sign", f"hold-{held}", "--db", db_url)
    assert (status, out) == (2, "")
    assert err.startswith("error: password: signing needs a terminal")
    _, manifest, _ = run(capsys, "signature-manifest", "--db", db_url)
    rows = list(csv.DictReader(io.StringIO(manifest)))
    assert [(r["status"], r["subject"], r["record"], r["signer_name"]) for r in rows] == [
        ("awaiting signature", "S-001", f"hold-{held}", "")
    ]
    with units(actor=INVESTIGATOR) as unit:
        assert [r.label for r in awaiting_signature(unit.session, "S-001")] == [f"hold-{held}"]


def test_a_nurse_cannot_sign_from_the_cli(units, held, db_url, capsys):
    status, _, err = run(capsys, "sign", f"hold-{held}", "--db", db_url, "--user", NURSE)
    assert status == 2 and err.startswith(f"error: user: {NURSE} is a nurse")


def test_signing_with_another_users_password_or_name_is_refused(units, held):
    with units(actor=INVESTIGATOR) as unit, pytest.raises(SignatureRefused) as refused:
        sign(unit, "hold", held, password=PASSWORD, user_name=NURSE)
    assert refused.value.field == "user_name"
    with units(actor=INVESTIGATOR) as unit, pytest.raises(SignatureRefused):
        sign(unit, "hold", held, password="the nurse's password")


def test_signing_twice_or_replaying_a_signature_is_refused_naming_the_first(units, held):
    with units(actor=INVESTIGATOR) as unit:
        sign(unit, "hold", held, password=PASSWORD)
    with units(actor=INVESTIGATOR) as unit, pytest.raises(Conflict) as twice:
        sign(unit, "hold", held, password=PASSWORD)
    assert twice.value.field == "record" and f"signed already by {INVESTIGATOR}" in str(twice.value)


def test_a_record_that_changed_since_the_preview_is_refused_as_stale(units, held):
    with units(actor=INVESTIGATOR) as unit, pytest.raises(Conflict) as stale:
        sign(unit, "hold", held, password=PASSWORD, expected_sha256="0" * 64)
    assert stale.value.field == "preview"
    with units(actor=INVESTIGATOR) as unit:
        assert unit.session.exec(select(Signature)).all() == []


def test_a_signature_cannot_be_moved_or_copied_to_another_record(units, held):
    with units(actor=NURSE) as unit:
        other = hold_after_void(unit, held)
    with units(actor=INVESTIGATOR) as unit:
        sign(unit, "void", other, password=PASSWORD, reason="signed hold entered in error")
    with units(actor=INVESTIGATOR) as unit:
        signature = unit.session.exec(select(Signature)).one()
        with pytest.raises(DBAPIError):  # moving it: the table is append-only
            unit.session.execute(text("UPDATE signature SET record_id = :other"), {"other": held})
    with units(actor=INVESTIGATOR) as unit:  # copying it: its digest no longer matches
        copy = Signature(
            **{**signature.model_dump(), "id": None, "record_kind": "hold", "record_id": held}
        )
        unit.session.add(copy)
    with units(actor=INVESTIGATOR) as unit:
        lines = {line.record: line.valid for line in signatures_of(unit.session, "S-001")}
    assert lines == {f"void-{other}": True, f"hold-{held}": False}


def hold_after_void(unit, held) -> int:
    """Void the (signed) hold; returns the void's id."""
    void_record(unit, "S-001", "hold", held, "entered for the wrong subject")
    unit.session.flush()
    from scheduler.models import Void

    return unit.session.exec(select(Void)).one().id


def test_voiding_a_signed_hold_needs_a_new_signature(units, held):
    with units(actor=INVESTIGATOR) as unit:
        sign(unit, "hold", held, password=PASSWORD)
    with units(actor=NURSE) as unit:
        void_id = hold_after_void(unit, held)
    with units(actor=INVESTIGATOR) as unit:
        waiting = awaiting_signature(unit.session, "S-001")
    assert [(r.label, r.meaning) for r in waiting] == [
        (f"void-{void_id}", f"approved: void of hold-{held} (entered for the wrong subject)")
    ]


@pytest.mark.parametrize("text", ["hold", "hold-", "dose-3", "hold-x", "hold-1234567890"])
def test_a_record_id_that_cannot_be_signed_is_refused_naming_record(text):
    with pytest.raises(InputError) as refused:
        parse_record_id(text)
    assert refused.value.field == "record"


def test_an_unknown_record_is_not_found(units, held):
    with units(actor=INVESTIGATOR) as unit, pytest.raises(NotFound):
        sign(unit, "hold", held + 100, password=PASSWORD)


def test_the_worklist_and_dosing_records_show_the_hold_awaiting_signature_until_signed(
    units, held, db_url, capsys
):
    from scheduler.worklist.items import worklist

    def awaiting() -> list[tuple[str, str, str]]:
        with units(actor=INVESTIGATOR) as unit:
            return [
                (i.subject, i.what, i.detail)
                for i in worklist(unit.session, unit.now)
                if i.kind == "awaiting_signature"
            ]

    assert awaiting() == [
        ("S-001", f"hold-{held}", "awaiting signature: approved: hold from 2026-02-20")
    ]
    _, out, _ = run(capsys, "records", "S-001", "--json", "--db", db_url)
    assert [r["signature"] for r in json.loads(out) if r["kind"] == "hold"] == [
        "awaiting signature"
    ]
    with units(actor=INVESTIGATOR) as unit:
        sign(unit, "hold", held, password=PASSWORD)
    assert awaiting() == []
    _, out, _ = run(capsys, "records", "S-001", "--json", "--db", db_url)
    assert [r["signature"] for r in json.loads(out) if r["kind"] == "hold"] == [
        f"signed by {INVESTIGATOR} at 2026-03-02T04:00:00Z"
    ]
