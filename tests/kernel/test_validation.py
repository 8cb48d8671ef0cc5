"""``parse_date``, the one date rule of the CLI, the pages and the API: ISO YYYY-MM-DD only,
within the years a record can have, every refusal naming the field."""

from datetime import date

import pytest

from scheduler.errors import InputError
from scheduler.kernel.validation import EARLIEST, LATEST, check_text, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02", date(2026, 3, 2)),
        (" 2026-03-02\n", date(2026, 3, 2)),  # pasted with spaces around it
        ("1900-01-01", EARLIEST),
        ("2199-12-31", LATEST),
        ("2028-02-29", date(2028, 2, 29)),
    ],
)
def test_an_iso_date_in_range_is_read(text, expected):
    assert parse_date("on", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "20260302",  # ISO basic format: date.fromisoformat takes it on Python 3.11
        "2026-W10-1",  # ISO week date: likewise
        "2026-061",  # ISO ordinal date
        "2026-3-2",
        "02/03/2026",
        "2026-03-02T00:00:00",
        "\uff12\uff10\uff12\uff16-03-02",  # full-width digits: \d would match them
        "",
        "0",
    ],
)
def test_anything_but_yyyy_mm_dd_is_refused_naming_the_field(text):
    with pytest.raises(InputError) as refused:
        parse_date("onset", text)
    assert refused.value.field == "onset"
    assert "expected YYYY-MM-DD" in refused.value.reason


def test_an_impossible_date_says_it_is_not_a_real_date():
    with pytest.raises(InputError) as refused:
        parse_date("date", "2026-02-30")
    assert (refused.value.field, refused.value.reason) == (
        "date",
        "'2026-02-30' is not a real date (expected YYYY-MM-DD)",
    )


@pytest.mark.parametrize(
    "value", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31", date(9999, 12, 31)]
)
def test_a_date_outside_1900_to_2199_is_refused_whether_typed_or_passed_as_a_date(value):
    with pytest.raises(InputError) as refused:
        parse_date("from", value)
    assert refused.value.field == "from" and "outside 1900-2199" in refused.value.reason


@pytest.mark.parametrize(
    "typed", ["grade 3\u202eesnopser", "nurse\x00", "tab\there", "bell\x07", "\u2066isolated\u2069"]
)
def test_free_text_with_a_control_character_or_a_direction_override_is_refused(typed):
    with pytest.raises(InputError) as refused:
        check_text("reason", typed, required=True)
    assert refused.value.field == "reason"
    assert "control character U+" in refused.value.reason


def test_line_breaks_in_a_note_are_kept_as_typed():
    assert check_text("note", "line one\r\nline two", required=False) == "line one\nline two"
