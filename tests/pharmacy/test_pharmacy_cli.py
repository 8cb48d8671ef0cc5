"""``dosing pharmacy`` prints the same rows as a table, JSON and CSV; the CSV is one table and
its totals go to a file of their own."""

import csv
import io
import json

import pytest
from cli_runner import run


@pytest.fixture
def db(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    code, _, err = run(
        capsys, "enroll", "S-001", "--c1d1", "2035-01-08", "--surgery", "2034-12-04", "--db", url
    )
    assert code == 0, err
    return url


# Far enough ahead that every cycle is still to come whatever the wall clock reads.
RANGE = ("--from", "2035-01-01", "--to", "2035-01-31", "--site", "ZJU1")


def test_json_and_csv_carry_the_same_rows(capsys, db, tmp_path):
    code, out, _ = run(capsys, "pharmacy", *RANGE, "--json", "--db", db)
    assert code == 0
    listing = json.loads(out)
    assert [(r["cycle"], r["day1"], r["prepare_by"]) for r in listing["rows"]] == [
        (1, "2035-01-08", "2035-01-04"),
        (2, "2035-01-29", "2035-01-25"),
    ]
    assert listing["totals"] == [{"strength_mg": 12, "count": 28}]
    totals = tmp_path / "totals.csv"
    code, out, _ = run(capsys, "pharmacy", *RANGE, "--csv", "--totals", str(totals), "--db", db)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["prepare_by"], r["cycle"], r["capsules"], r["status"]) for r in rows] == [
        ("2035-01-04", "1", "14 x 12 mg", "to prepare"),
        ("2035-01-25", "2", "14 x 12 mg", "to prepare"),
    ]
    assert list(csv.DictReader(io.StringIO(totals.read_text()))) == [
        {"strength_mg": "12", "count": "28"}
    ]


def test_the_table_is_followed_by_the_totals_per_strength(capsys, db):
    code, out, _ = run(capsys, "pharmacy", *RANGE, "--db", db)
    assert code == 0
    rows, totals = out.split("to prepare, per strength:")
    assert "TOTAL" not in rows and len(rows.strip().splitlines()) == 4  # headers, rule, 2 rows
    assert [line.split() for line in totals.strip().splitlines()] == [
        ["strength_mg", "count"],
        ["-----------", "-----"],
        ["12", "28"],
    ]


def test_a_bad_date_names_the_option(capsys, db):
    code, _, err = run(capsys, "pharmacy", "--from", "2026-13-01", "--db", db)
    assert code == 2 and "from" in err


@pytest.mark.parametrize("option", ["--from", "--to"])
@pytest.mark.parametrize("value", ["20260302", "2026-W10-1", "9999-12-31", "0001-01-01"])
def test_a_date_that_is_not_yyyy_mm_dd_in_range_exits_2_with_one_line(capsys, db, option, value):
    """``--from 9999-12-31`` used to overflow the prepare-by arithmetic (exit 1)."""
    code, out, err = run(capsys, "pharmacy", option, value, "--db", db)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {option[2:]}: ") and value in err and err.count("\n") == 1


@pytest.fixture
def started(tmp_path, capsys):
    """A subject whose cycle 1 is in the past whatever the wall clock reads."""
    url = f"sqlite:///{tmp_path / 'started.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    args = ("enroll", "S-002", "--c1d1", "2026-01-05", "--surgery", "2025-12-01", "--db", url)
    assert run(capsys, *args)[0] == 0
    return url


def test_dispense_return_and_reconcile_from_the_command_line(capsys, started):
    db = ("--db", started)
    code, out, err = run(
        capsys, "dispense", "S-002", "--cycle", "1", "--date", "2026-01-05", "--strength", "12",
        "--count", "14", "--lot", "AN2601", "--expiry", "2027-06-30",
        "--reason", "prepared on paper", *db,
    )  # fmt: skip
    assert code == 0, err
    assert "14 x 12 mg dispensed" in out
    code, out, err = run(
        capsys, "return", "S-002", "--cycle", "1", "--date", "2026-01-26", "--strength", "12",
        "--count", "13", *db,
    )  # fmt: skip
    assert code == 0, err
    assert "14 dispensed, 13 returned, 14 expected; discrepancy -1" in out
    code, out, _ = run(capsys, "accountability", "S-002", "--json", *db)
    (line,) = json.loads(out)["reconciliation"]
    assert (line["dispensed"], line["returned"], line["discrepancy"]) == (14, 13, -1)
    code, out, _ = run(capsys, "due", "--json", *db)
    assert any(i["kind"] == "drug_discrepancy" for i in json.loads(out)["items"])
    code, _, err = run(capsys, "reconcile-review", "S-002", "--cycle", "1", "--note", "lost", *db)
    assert code == 0, err
    code, out, _ = run(capsys, "due", "--json", *db)
    assert not any(i["kind"] == "drug_discrepancy" for i in json.loads(out)["items"])


def test_a_correction_without_reason_is_refused_with_exit_2(capsys, started):
    db = ("--db", started)
    base = ("criteria", "S-002", "--cycle", "2", *db)
    assert run(capsys, *base, "--met")[0] == 0
    code, _, err = run(capsys, *base, "--not-met", "--reason", "")
    assert code == 2 and "reason" in err


def test_export_and_fhir_write_files(capsys, started, tmp_path):
    out = tmp_path / "da.csv"
    code, text, err = run(capsys, "export", "sv", "--db", started)
    assert code == 0, err
    assert text.splitlines()[0].startswith("STUDYID,DOMAIN,USUBJID,VISITNUM,VISIT")
    code, _, err = run(capsys, "export", "da", "--out", str(out), "--db", started)
    assert code == 0 and out.read_text().startswith("STUDYID,DOMAIN,USUBJID,DASEQ"), err
    code, text, _ = run(capsys, "export", "xx", "--db", started)
    assert code == 2
    bundle_file = tmp_path / "s2.json"
    code, _, err = run(capsys, "fhir", "S-002", "--out", str(bundle_file), "--db", started)
    assert code == 0, err
    assert json.loads(bundle_file.read_text())["resourceType"] == "Bundle"
