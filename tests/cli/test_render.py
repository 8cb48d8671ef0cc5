"""What `dosing plan` and `dosing audit` print for people: every dosing day on one screen, and
an audit trail that fits the terminal however long its values."""

import re

from cli_runner import run


def _enrolled(capsys, tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    enroll = ["enroll", "S-001", "--c1d1", "2026-01-05", "--surgery", "2025-12-01", "--db", url]
    assert run(capsys, *enroll)[0] == 0
    return url


def test_plan_prints_every_dosing_day_as_a_grid(capsys, tmp_path):
    url = _enrolled(capsys, tmp_path)
    assert run(capsys, "dose", "S-001", "--date", "2026-01-05", "--taken", "--db", url)[0] == 0
    assert run(capsys, "dose", "S-001", "--date", "2026-01-06", "--missed", "--db", url)[0] == 0
    code, out, _ = run(capsys, "plan", "S-001", "--date", "2026-01-08", "--db", url)
    assert code == 0
    assert "every dosing day (T taken, L late" in out
    header = next(line for line in out.splitlines() if line.startswith("cycle  day 1       D1"))
    assert header.split()[-1] == "D14"
    rows = {
        line.split()[0]: line.split()[2:] for line in out.splitlines() if re.match(r"C\d ", line)
    }
    assert sorted(rows) == [f"C{n}" for n in range(1, 9)]
    assert rows["C1"][:3] == ["T", "M", "."] and all(len(r) == 14 for r in rows.values())


def test_audit_wraps_long_values_to_the_terminal_width(capsys, tmp_path, monkeypatch):
    url = _enrolled(capsys, tmp_path)
    long_reason = "the patient reported the dose on the phone and " * 4
    run(capsys, "dose", "S-001", "--date", "2026-01-05", "--taken", "--db", url)
    corrected = ["dose", "S-001", "--date", "2026-01-05", "--missed", "--reason", long_reason]
    assert run(capsys, *corrected, "--db", url)[0] == 0
    monkeypatch.setenv("COLUMNS", "90")
    code, out, _ = run(capsys, "audit", "S-001", "--db", url)
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 90
    assert out.count("patient") == 4  # the whole reason, wrapped, not cut
