"""``dosing criteria --on`` and ``dosing resume --reason`` beyond the limits. The subject
started in January 2026, so every date used here is in the past whatever the wall clock reads
(cycle 2 was due 2026-01-26)."""

import pytest
from cli_runner import run


@pytest.fixture
def db(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'criteria.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    args = ("enroll", "S-003", "--c1d1", "2026-01-05", "--surgery", "2025-12-01", "--db", url)
    assert run(capsys, *args)[0] == 0
    return ("--db", url)


def test_criteria_not_met_on_a_date_hold_the_cycle_back_until_met(capsys, db):
    base = ("criteria", "S-003", "--cycle", "2", *db)
    code, out, err = run(capsys, *base, "--not-met", "--reason", "ANC 1.2", "--on", "2026-01-26")
    assert code == 0, err
    assert out.splitlines() == [
        "S-003 cycle 2 day-1 criteria not met on 2026-01-26",
        "cycle 2 waits until they are met",
    ]
    code, out, err = run(capsys, *base, "--met", "--on", "2026-01-30")
    assert code == 0, err
    assert out.splitlines() == [
        "S-003 cycle 2 day-1 criteria met on 2026-01-30",
        "cycle 2 starts on 2026-01-30, 4 days late",
    ]


@pytest.mark.parametrize("on", ["2199-01-01", "2026-13-01", "2026-01-04"])
def test_a_criteria_date_in_the_future_not_a_date_or_before_the_cycle_before_exits_2(
    capsys, db, on
):
    code, out, err = run(capsys, "criteria", "S-003", "--cycle", "2", "--met", "--on", on, *db)
    assert (code, out) == (2, "")
    assert err.startswith("error: on: ") and on in err and err.count("\n") == 1


def test_resuming_after_a_hold_beyond_the_limit_needs_reason_on_the_command_line(capsys, db):
    assert (
        run(capsys, "hold", "S-003", "--from", "2026-01-07", "--reason", "grade 3 AE", *db)[0] == 0
    )
    resume = ("resume", "S-003", "--on", "2026-01-25", *db)
    code, out, err = run(capsys, *resume)
    assert (code, out) == (2, "")
    assert err == (
        "error: reason: the hold from 2026-01-07 lasted 18 days, 4 over the 14-day limit: "
        "give the investigator's reason to continue treatment\n"
    )
    code, out, err = run(capsys, *resume, "--reason", "PI decision: continue")
    assert code == 0, err
    code, out, _ = run(capsys, "audit", "S-003", "--json", *db)
    assert "treatment.limit_override" in out and "PI decision: continue" in out
