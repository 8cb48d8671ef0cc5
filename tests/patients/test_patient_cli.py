"""``dosing patient``: issue and withdraw a subject's private link, opt them in to the "no
report" line, list what they reported and review it, each as a staff account, audited."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cli_runner import run
from sqlmodel import select

from scheduler.db import get_engine
from scheduler.kernel.subject_state import subject_state
from scheduler.kernel.unit import unit_of_work
from scheduler.models import AuditEntry
from scheduler.patients.links import resolve_link
from scheduler.patients.reports import report_dose

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
def db(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'patients.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    c1d1 = TODAY - timedelta(days=3)  # cycle 1 day 4: a dosing day
    surgery = (c1d1 - timedelta(days=35)).isoformat()
    args = ("enroll", "S-1", "--c1d1", c1d1.isoformat(), "--surgery", surgery, "--db", url)
    args += ("--dose-time", "07:00")
    assert run(capsys, *args)[0] == 0
    return url


def test_a_link_is_printed_once_and_withdrawn_with_a_reason(capsys, db):
    code, out, err = run(capsys, "patient", "link", "S-1", "--alert-unreported", "--db", db)
    assert code == 0 and "/p/" in out and "shown only now" in err
    code, out, _ = run(capsys, "patient", "revoke", "S-1", "--db", db)
    assert code == 2  # a reason is required
    code, out, _ = run(capsys, "patient", "revoke", "S-1", "--reason", "phone lost", "--db", db)
    assert code == 0 and "withdrew 1" in out
    code, _, err = run(capsys, "patient", "alert", "S-1", "--on", "--db", db)
    assert code == 2 and "issue one first" in err
    engine = get_engine(db)
    with unit_of_work(engine, "reader") as unit:
        actions = [e.action for e in unit.session.exec(select(AuditEntry))]
    assert "patient_link.issue" in actions and "patient_link.revoke" in actions


def test_reports_are_listed_and_confirmed_from_the_shell(capsys, db):
    code, out, _ = run(capsys, "patient", "link", "S-1", "--db", db)
    token = out.strip().rsplit("/p/", 1)[1]
    with unit_of_work(get_engine(db), "patient") as unit:
        link = resolve_link(unit.session, token)
        unit.actor = f"patient link {link.id}"
        state = subject_state(unit.session, "S-1", unit.now)
        report_dose(unit, state, link, on=TODAY, taken=False, at=None)
    code, out, _ = run(capsys, "patient", "reports", "S-1", "--db", db)
    assert code == 0 and "not taken" in out and "awaiting review" in out
    code, out, _ = run(capsys, "patient", "reports", "S-1", "--json", "--db", db)
    [report] = json.loads(out)
    code, _, err = run(capsys, "patient", "review", "S-1", str(report["id"]), "--taken", "--db", db)
    assert code == 2 and "--correct" in err
    code, out, _ = run(capsys, "patient", "review", "S-1", str(report["id"]), "--db", db)
    assert code == 0 and "confirmed: dose record" in out
    code, out, _ = run(capsys, "accountability", "S-1", "--db", db)
    assert "patient reports: 0 taken, 1 not taken, 0 not yet reviewed" in out
    assert "verified: 0 taken, 1 missed" in out
