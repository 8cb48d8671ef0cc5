"""``dosing due``: the worklist for scripts (JSON keys as documented) and for people."""

import json

import pytest
from cli_runner import run


@pytest.fixture
def db(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'due.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    code, _, err = run(
        capsys, "enroll", "S-001", "--c1d1", "2026-01-05", "--surgery", "2025-12-01", "--db", url
    )
    assert code == 0, err
    return url


def _items(capsys, db, *extra):
    code, out, err = run(capsys, "due", "--json", "--db", db, *extra)
    assert code == 0, err
    return json.loads(out)


def test_the_json_has_the_date_and_items_with_the_documented_keys(capsys, db):
    data = _items(capsys, db, "--date", "2026-01-05", "--site", "ZJU1")
    assert data["date"] == "2026-01-05" and data["sites"] == ["ZJU1"]
    due = [i for i in data["items"] if i["kind"] == "visit_due"]
    assert [(i["subject"], i["visit_code"]) for i in due] == [("S-001", "C1D1")]
    assert {"subject", "kind", "visit_code", "target", "window_start", "window_end"} <= set(due[0])
    assert (due[0]["target"], due[0]["window_start"], due[0]["window_end"]) == (
        "2026-01-05",
        "2026-01-05",
        "2026-01-05",
    )
    assert due[0]["dose_mg"] == 12 and due[0]["urgency"] == "today"


def test_a_visit_recorded_done_leaves_the_list(capsys, db):
    code, _, err = run(capsys, "visit", "S-001", "C1D1", "--on", "2026-01-05", "--db", db)
    assert code == 0, err
    data = _items(capsys, db, "--date", "2026-01-05")
    assert not [i for i in data["items"] if i["kind"] == "visit_due"]


def test_the_text_list_is_grouped_by_urgency(capsys, db):
    code, out, _ = run(capsys, "due", "--date", "2026-01-05", "--db", db)
    assert code == 0
    assert out.index("Overdue or needs a decision:") < out.index("Today:")
    assert "SCR" in out.split("Today:")[0]  # screening window closed the day before
    assert "C1D1" in out.split("Today:")[1]


@pytest.mark.parametrize(
    ("argv", "field"),
    [(("--date", "2026-02-30"), "date"), (("--site", "NOPE"), "site")],
)
def test_bad_input_exits_2_naming_the_field(capsys, db, argv, field):
    code, out, err = run(capsys, "due", "--db", db, *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {field}:")


@pytest.mark.parametrize("value", ["20260302", "2026-W10-1", "9999-12-31", "0001-01-01"])
def test_a_date_that_is_not_yyyy_mm_dd_in_range_exits_2_with_one_line(capsys, db, value):
    """Python 3.11 reads the first two as dates, and the last two made the worklist's date
    arithmetic overflow (exit 1, "unexpected OverflowError")."""
    code, out, err = run(capsys, "due", "--date", value, "--db", db)
    assert (code, out) == (2, "")
    assert err.startswith("error: date: ") and value in err and err.count("\n") == 1
