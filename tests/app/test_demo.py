"""The demo a newcomer gets: every role has something to look at (pharmacy records with a
discrepancy, reminders sent and pending), and one command starts it afresh."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

from cli_runner import run
from sqlmodel import Session, select

from scheduler.db import get_engine
from scheduler.models import Appointment, Dispensing, DrugReturn, Preparation, Reminder


def test_the_demo_seeds_pharmacy_records_and_reminders(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    code, out, _ = run(capsys, "demo", "--db", url)
    assert code == 0 and "drug_discrepancy" in out
    with Session(get_engine(url)) as session:
        dispensed = session.exec(select(Dispensing)).all()
        returned = session.exec(select(DrugReturn)).all()
        prepared = session.exec(select(Preparation)).all()
        reminders = session.exec(select(Reminder)).all()
        booked = session.exec(select(Appointment)).all()
    assert len(dispensed) == 3 and len(returned) == 2 and prepared
    assert {r.status for r in reminders} >= {"sent", "pending"}
    assert len(booked) == 4  # the next two visits of DEMO-002 and DEMO-003
    sent = [r for r in reminders if r.status == "sent"]
    assert all(r.sent_at is not None and r.sent_at >= r.due_at for r in sent)
    code, out, _ = run(capsys, "accountability", "DEMO-002", "--json", "--db", url)
    assert code == 0
    cycles = json.loads(out)["reconciliation"]
    assert any(c["discrepancy"] for c in cycles)
    code, out, _ = run(capsys, "audit", "verify", "--db", url)
    assert code == 0, out


def test_the_demo_is_reset_with_one_command(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert run(capsys, "demo", "--db", url)[0] == 0
    assert (
        run(
            capsys,
            "enroll",
            "S-EXTRA",
            "--c1d1",
            "2026-01-05",
            "--surgery",
            "2025-12-01",
            "--db",
            url,
        )[0]
        == 0
    )
    code, out, _ = run(capsys, "demo", "--reset", "--db", url)
    assert code == 0 and "removed" in out and "5 subjects created" in out
    code, out, _ = run(capsys, "subjects", "--db", url)
    assert "S-EXTRA" not in out and "DEMO-001" in out


def test_a_postgresql_database_is_never_reset(capsys):
    code, _, err = run(capsys, "demo", "--reset", "--db", "postgresql://nobody@127.0.0.1/x")
    assert code == 2 and "reset: only a SQLite demo file can be reset" in err


def test_serve_listens_on_the_port_named_by_PORT(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PORT": str(port), "DOSING_SCHEDULER_ENABLED": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "scheduler", "serve", "--db", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.3)
        assert answer.status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
