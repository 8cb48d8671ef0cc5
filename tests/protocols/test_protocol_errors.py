"""A malformed protocol file is refused with the file, the key path and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.errors import ProtocolError
from scheduler.protocols import load_protocol, shipped_protocol_files


def shipped_text(name: str = "nct03945799.toml") -> str:
    return next(p for p in shipped_protocol_files() if p.name == name).read_text(encoding="utf-8")


def broken(tmp_path: Path, old: str, new: str, name: str = "nct03945799.toml") -> Path:
    text = shipped_text(name)
    assert old in text, f"the shipped {name} no longer contains {old!r}"
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def refusal(path: Path) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    error = caught.value
    assert error.source == str(path)
    assert str(error).startswith(f"{path}: {error.key_path}: ")
    return error


@pytest.mark.parametrize("path", shipped_protocol_files(), ids=lambda p: p.name)
def test_every_shipped_protocol_loads(path):
    protocol = load_protocol(path)

    assert protocol.dose_levels[0].dose_mg == protocol.starting_dose_mg


def test_a_toml_syntax_error_names_the_file_and_the_line(tmp_path):
    error = refusal(broken(tmp_path, "cycles = 8\n", "cycles = = 8\n"))

    assert error.key_path == "(syntax)"
    assert "line" in error.reason


def test_an_unknown_key_is_refused_with_its_key_path(tmp_path):
    error = refusal(broken(tmp_path, "max_hold_days = 14", "max_hold_dayz = 14"))

    assert error.key_path == "limits.max_hold_dayz"
    assert "Extra inputs are not permitted" in error.reason
    assert "limits.max_hold_days: Field required" in error.reason


def test_an_unknown_key_inside_a_list_of_tables_names_its_index(tmp_path):
    error = refusal(broken(tmp_path, 'code = "C1D15"', 'code = "C1D15"\nwindow = 2'))

    assert error.key_path == "visits[3].window"


def test_dose_levels_that_do_not_descend_are_refused(tmp_path):
    path = broken(
        tmp_path,
        'dose_mg = 10\nlabel = "dose level -1"\nunits = [{ strength_mg = 10, count = 1 }]',
        'dose_mg = 14\nlabel = "dose level -1"\nunits = [{ strength_mg = 14, count = 1 }]',
    )
    error = refusal(path)

    assert error.key_path == "dose_levels[1].dose_mg"
    assert "from the starting dose downwards" in error.reason
    assert "14 mg" in error.reason


def test_a_visit_naming_cycles_beyond_the_schedule_is_refused(tmp_path):
    error = refusal(broken(tmp_path, 'cycles = "3,5,7"', 'cycles = "3,5,7,9"'))

    assert error.key_path == "visits[5].cycles"
    assert "names cycles [9] beyond the 8 cycles of the schedule" in error.reason


def test_units_that_do_not_add_up_to_the_dose_are_refused(tmp_path):
    path = broken(
        tmp_path,
        "units = [{ strength_mg = 500, count = 2 }, { strength_mg = 150, count = 1 }]",
        "units = [{ strength_mg = 500, count = 2 }, { strength_mg = 150, count = 2 }]",
        name="example_capecitabine.toml",
    )
    error = refusal(path)

    assert error.key_path == "dose_levels[1].units"
    assert "units add up to 1300 mg but the dose level is 1150 mg" in error.reason


def test_dosing_days_outside_the_cycle_are_refused(tmp_path):
    error = refusal(broken(tmp_path, 'dosing_days = "1-14"', 'dosing_days = "1-22"'))

    assert error.key_path == "schedule.dosing_days"
    assert "[22] fall outside a 21-day cycle" in error.reason


def test_a_malformed_day_range_is_refused(tmp_path):
    error = refusal(broken(tmp_path, 'dosing_days = "1-14"', 'dosing_days = "14-1"'))

    assert error.key_path == "schedule.dosing_days"
    assert "ends before it starts" in error.reason


def test_a_duplicate_visit_code_is_refused(tmp_path):
    error = refusal(broken(tmp_path, 'code = "C1D15"', 'code = "C1D1"'))

    assert error.key_path == "visits[3].code"
    assert "'C1D1' appears twice" in error.reason


def test_a_wrong_value_type_names_the_key(tmp_path):
    error = refusal(broken(tmp_path, "cycle_length_days = 21", 'cycle_length_days = "three weeks"'))

    assert error.key_path == "schedule.cycle_length_days"


def test_a_missing_file_is_refused_naming_it(tmp_path):
    error = refusal(tmp_path / "absent.toml")

    assert error.key_path == "(file)"
