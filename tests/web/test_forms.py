"""The one form parser: every page reads numbers the same strict way."""

from __future__ import annotations

import pytest

from scheduler.errors import InputError
from scheduler.web.forms import milligrams, optional_milligrams, optional_whole, whole


@pytest.mark.parametrize("typed", ["+1", "1_0", "\u0661", "-1", "1.0", "", "1234567"])
def test_a_whole_number_is_ascii_digits_only(typed):
    with pytest.raises(InputError) as refused:
        whole("count", typed)
    assert refused.value.field == "count"


def test_a_whole_number_may_be_surrounded_by_spaces():
    assert whole("count", " 14 ") == 14


def test_a_record_id_may_have_nine_digits_but_not_ten():
    assert optional_whole("ae", "123456789", digits=9) == 123456789
    with pytest.raises(InputError):
        optional_whole("ae", "1234567890", digits=9)
    assert optional_whole("ae", "  ") is None


@pytest.mark.parametrize("typed", ["1e1", "nan", "inf", "+10", "10,5", "\u0661\u0660"])
def test_a_dose_in_mg_is_a_plain_decimal(typed):
    with pytest.raises(InputError):
        milligrams("dose_mg", typed)


def test_an_empty_dose_means_the_level_in_effect():
    assert optional_milligrams("dose_mg", "") is None
    assert optional_milligrams("dose_mg", "10") == 10.0
