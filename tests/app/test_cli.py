"""The CLI is a contract other tools script against: exit 2 and one line naming the field for
bad input, exit 1 for the unexpected, JSON keys as documented, and a rejected command changes
nothing in the database."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run


@pytest.fixture
def db(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    code, out, _ = run(capsys, "init", "--db", url)
    assert code == 0 and "protocol NCT03945799 v5" in out
    code, _, err = run(
        capsys, "enroll", "S-001", "--c1d1", "2026-01-05", "--surgery", "2025-12-01", "--db", url
    )
    assert code == 0, err
    return url


def test_plan_json_has_the_documented_keys(capsys, db):
    code, out, _ = run(capsys, "plan", "S-001", "--json", "--db", db, "--date", "2026-01-10")
    plan = json.loads(out)
    assert code == 0
    assert {"subject", "protocol", "status", "dose_mg", "cycles", "visits"} <= set(plan)
    assert {"number", "day1", "dose_mg", "status", "doses"} <= set(plan["cycles"][0])
    assert {"date", "day", "dose_mg", "status"} <= set(plan["cycles"][0]["doses"][0])
    assert {"code", "name", "target", "window_start", "window_end", "status"} <= set(
        plan["visits"][0]
    )
    assert (plan["subject"], plan["protocol"], plan["status"]) == (
        "S-001",
        "NCT03945799",
        "on_treatment",
    )
    assert len(plan["cycles"]) == 8 and len(plan["cycles"][7]["doses"]) == 14


def test_plan_json_is_byte_identical_between_runs(capsys, db):
    first = run(capsys, "plan", "S-001", "--json", "--db", db, "--date", "2026-01-10")[1]
    second = run(capsys, "plan", "S-001", "--json", "--db", db, "--date", "2026-01-10")[1]
    assert first == second


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["dose", "S-001", "--date", "2026-02-30", "--taken"], "date"),
        (["dose", "GHOST", "--date", "2026-01-06", "--taken"], "subject"),
        (["dose", "S-001", "--date", "2026-01-20", "--taken"], "date"),
        (["resume", "S-001", "--on", "2026-01-08"], "on"),
        (["visit", "S-001", "XYZ", "--on", "2026-01-05"], "code"),
        (["enroll", "S-001", "--c1d1", "2026-01-05", "--surgery", "2025-12-01"], "subject"),
        (["discontinue", "S-001", "--on", "2026-01-08", "--reason", "bored"], "reason"),
        (["dose", "S-001", "--date", "2026-01-06", "--taken", "--missed"], "taken"),
        (["dose", "S-001", "--date", "20260106", "--taken"], "date"),
        (
            ["ae", "S-001", "--term", "rash", "--grade", "2", "--onset", "2026-W02-1", "--related"],
            "onset",
        ),
        (["ae", "S-001", "--term", "rash", "--grade", "2", "--onset", "2026-01-06"], "related"),
        (["hold", "S-001", "--from", "9999-12-31", "--reason", "typo"], "from"),
        (["plan", "S-001", "--date", "9999-12-31"], "date"),
        (["enroll", "S-002", "--c1d1", "0001-01-01", "--surgery", "2025-12-01"], "c1d1"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(capsys, db, argv, field):
    before = run(capsys, "records", "S-001", "--json", "--db", db)[1]
    code, out, err = run(capsys, *argv, "--db", db)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {field}: ")
    assert out == ""
    assert run(capsys, "records", "S-001", "--json", "--db", db)[1] == before


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["ae", "S-001", "--term", "Rash", "--grade", "x", "--onset", "2026-01-06"], "'--grade'"),
        (["resume", "S-001", "--on", "2026-01-08", "--dose-mg", "ten"], "'--dose-mg'"),
        (["hold", "S-001", "--from", "2026-01-08"], "'--reason'"),
        (["enroll", "S-002", "--surgery", "2025-12-01"], "'--c1d1'"),
        (["plan", "S-001", "--jsn"], "--jsn"),
        (["frobnicate"], "'frobnicate'"),
    ],
)
def test_a_malformed_command_line_exits_2_with_one_line_naming_the_parameter(
    capsys, db, argv, named
):
    """Typer's own checks (missing option, not a number, unknown option or command) are bad
    input like the services' checks, not an unexpected failure."""
    before = run(capsys, "records", "S-001", "--json", "--db", db)[1]
    code, out, err = run(capsys, *argv, "--db", db)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and named in err
    assert "unexpected" not in err and out == ""
    assert run(capsys, "records", "S-001", "--json", "--db", db)[1] == before


def test_a_dose_level_not_in_the_protocol_is_refused_without_a_trace(capsys, db):
    assert (
        run(capsys, "hold", "S-001", "--from", "2026-01-08", "--reason", "rash", "--db", db)[0] == 0
    )
    audit_before = run(capsys, "audit", "S-001", "--json", "--db", db)[1]
    code, _, err = run(
        capsys, "resume", "S-001", "--on", "2026-01-10", "--dose-mg", "11", "--db", db
    )
    assert code == 2 and err.startswith("error: dose_mg: 11 mg is not a dose level")
    assert run(capsys, "audit", "S-001", "--json", "--db", db)[1] == audit_before


def test_re_escalation_is_refused(capsys, db):
    run(capsys, "hold", "S-001", "--from", "2026-01-08", "--reason", "rash", "--db", db)
    run(capsys, "resume", "S-001", "--on", "2026-01-10", "--dose-mg", "10", "--db", db)
    run(capsys, "hold", "S-001", "--from", "2026-01-12", "--reason", "rash again", "--db", db)
    code, _, err = run(
        capsys, "resume", "S-001", "--on", "2026-01-14", "--dose-mg", "12", "--db", db
    )
    assert code == 2 and "re-escalation" in err


def test_ae_prints_the_proposed_action(capsys, db):
    code, out, _ = run(
        capsys,
        "ae",
        "S-001",
        "--term",
        "hemorrhage",
        "--grade",
        "3",
        "--onset",
        "2026-01-07",
        "--unrelated",
        "--db",
        db,
    )
    assert code == 0 and "proposed action: discontinue" in out


def test_ae_json_carries_the_record_and_the_proposal(capsys, db):
    argv = ["ae", "S-001", "--term", "Rash", "--grade", "3", "--onset", "2026-01-07", "--related"]
    code, out, _ = run(capsys, *argv, "--json", "--db", db)
    answer = json.loads(out)
    assert code == 0
    assert answer["term"] == "Rash" and answer["grade"] == 3 and answer["onset"] == "2026-01-07"
    assert answer["proposal"]["action"] == "hold_then_reduce"
    assert answer["proposal"]["resume_dose_mg"] == 10
    records = json.loads(run(capsys, "records", "S-001", "--json", "--db", db)[1])
    assert {"kind": "adverse_event", "id": answer["id"]}.items() <= records[-1].items()


def test_an_uninitialised_database_is_an_input_error(capsys, tmp_path):
    code, _, err = run(capsys, "plan", "S-001", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 2 and "run `dosing init` first" in err


def test_an_unreachable_database_is_unexpected_and_exits_1(capsys):
    code, _, err = run(capsys, "plan", "S-001", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert code == 1 and err.startswith("error: unexpected")


def test_python_dash_m_scheduler_is_the_same_cli(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "scheduler", "init", "--db", f"sqlite:///{tmp_path / 'm.db'}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent,
    )
    assert result.returncode == 0, result.stderr
    assert "database ready" in result.stdout


def test_the_demo_seeds_five_subjects_once(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    code, out, _ = run(capsys, "demo", "--db", url)
    assert code == 0 and "5 subjects created" in out and "DEMO-004" in out
    code, out, _ = run(capsys, "demo", "--db", url)
    assert code == 0 and "0 subjects created" in out


def test_the_cli_drives_both_backends(capsys, db_url):
    assert run(capsys, "init", "--db", db_url)[0] == 0
    enroll = ["enroll", "S-9", "--c1d1", "2026-01-05", "--surgery", "2025-12-01", "--db", db_url]
    assert run(capsys, *enroll)[0] == 0
    code, out, _ = run(capsys, "dose", "S-9", "--date", "2026-01-05", "--taken", "--db", db_url)
    assert code == 0 and "C1D1" in out and "taken" in out
    code, out, _ = run(capsys, "plan", "S-9", "--json", "--db", db_url)
    assert json.loads(out)["cycles"][0]["doses"][0]["status"] == "taken"
