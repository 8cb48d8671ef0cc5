"""CTCAE v5.0 grades from the shipped table: each grade boundary of every test, just below it,
on it and just above it, written out here from the CTCAE text (not read from the table), and
the property that a grade never falls as the value moves the way the test grades."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.core.lab_grades import Measured, baseline_abnormal, grade
from scheduler.errors import InputError, ProtocolError
from scheduler.protocols.grading_table import ctcae_v5, parse_grading_table

TABLE = ctcae_v5()
STEP = 1e-6
"""How far from a boundary "just below" and "just above" are, relative to it."""

# (test, boundary, normal range, baseline, grades just below / on / just above the boundary)
BOUNDARIES = [
    # neutrophil count decreased: G1 <LLN-1.5, G2 <1.5-1.0, G3 <1.0-0.5, G4 <0.5 (x10^9/L)
    ("ANC", 2.0, {"lln": 2.0}, None, (1, 0, 0)),
    ("ANC", 1.5, {"lln": 2.0}, None, (2, 1, 1)),
    ("ANC", 1.0, {"lln": 2.0}, None, (3, 2, 2)),
    ("ANC", 0.5, {"lln": 2.0}, None, (4, 3, 3)),
    # platelet count decreased: G1 <LLN-75, G2 <75-50, G3 <50-25, G4 <25
    ("PLT", 125.0, {"lln": 125.0}, None, (1, 0, 0)),
    ("PLT", 75.0, {"lln": 125.0}, None, (2, 1, 1)),
    ("PLT", 50.0, {"lln": 125.0}, None, (3, 2, 2)),
    ("PLT", 25.0, {"lln": 125.0}, None, (4, 3, 3)),
    # anemia: G1 <LLN-10.0, G2 <10.0-8.0, G3 <8.0 g/dL (grade 4 is clinical)
    ("HGB", 12.0, {"lln": 12.0}, None, (1, 0, 0)),
    ("HGB", 10.0, {"lln": 12.0}, None, (2, 1, 1)),
    ("HGB", 8.0, {"lln": 12.0}, None, (3, 2, 2)),
    # ALT/AST increased, baseline normal: G1 >ULN-3.0, G2 >3.0-5.0, G3 >5.0-20.0, G4 >20.0 x ULN
    ("ALT", 40.0, {"uln": 40.0}, None, (0, 0, 1)),
    ("ALT", 120.0, {"uln": 40.0}, None, (1, 1, 2)),
    ("ALT", 200.0, {"uln": 40.0}, None, (2, 2, 3)),
    ("ALT", 800.0, {"uln": 40.0}, None, (3, 3, 4)),
    ("AST", 35.0, {"uln": 35.0}, None, (0, 0, 1)),
    ("AST", 105.0, {"uln": 35.0}, None, (1, 1, 2)),
    ("AST", 175.0, {"uln": 35.0}, None, (2, 2, 3)),
    ("AST", 700.0, {"uln": 35.0}, None, (3, 3, 4)),
    # ... baseline abnormal: G1 1.5-3.0, G2 >3.0-5.0, G3 >5.0-20.0, G4 >20.0 x baseline
    ("ALT", 90.0, {"uln": 40.0}, 60.0, (0, 1, 1)),
    ("ALT", 180.0, {"uln": 40.0}, 60.0, (1, 1, 2)),
    ("ALT", 300.0, {"uln": 40.0}, 60.0, (2, 2, 3)),
    ("ALT", 1200.0, {"uln": 40.0}, 60.0, (3, 3, 4)),
    ("AST", 75.0, {"uln": 35.0}, 50.0, (0, 1, 1)),
    ("AST", 150.0, {"uln": 35.0}, 50.0, (1, 1, 2)),
    ("AST", 250.0, {"uln": 35.0}, 50.0, (2, 2, 3)),
    ("AST", 1000.0, {"uln": 35.0}, 50.0, (3, 3, 4)),
    # ALP increased: G1 >ULN-2.5, G2 >2.5-5.0, G3 >5.0-20.0, G4 >20.0 x ULN;
    # baseline abnormal: G1 2.0-2.5, G2 >2.5-5.0, G3 >5.0-20.0, G4 >20.0 x baseline
    ("ALP", 120.0, {"uln": 120.0}, None, (0, 0, 1)),
    ("ALP", 300.0, {"uln": 120.0}, None, (1, 1, 2)),
    ("ALP", 600.0, {"uln": 120.0}, None, (2, 2, 3)),
    ("ALP", 2400.0, {"uln": 120.0}, None, (3, 3, 4)),
    ("ALP", 300.0, {"uln": 120.0}, 150.0, (0, 1, 1)),
    ("ALP", 375.0, {"uln": 120.0}, 150.0, (1, 1, 2)),
    ("ALP", 750.0, {"uln": 120.0}, 150.0, (2, 2, 3)),
    ("ALP", 3000.0, {"uln": 120.0}, 150.0, (3, 3, 4)),
    # blood bilirubin increased: G1 >ULN-1.5, G2 >1.5-3.0, G3 >3.0-10.0, G4 >10.0 x ULN;
    # baseline abnormal: G1 >1.0-1.5, G2 >1.5-3.0, G3 >3.0-10.0, G4 >10.0 x baseline
    ("TBIL", 1.2, {"uln": 1.2}, None, (0, 0, 1)),
    ("TBIL", 1.8, {"uln": 1.2}, None, (1, 1, 2)),
    ("TBIL", 3.6, {"uln": 1.2}, None, (2, 2, 3)),
    ("TBIL", 12.0, {"uln": 1.2}, None, (3, 3, 4)),
    ("TBIL", 2.0, {"uln": 1.2}, 2.0, (0, 0, 1)),
    ("TBIL", 3.0, {"uln": 1.2}, 2.0, (1, 1, 2)),
    ("TBIL", 6.0, {"uln": 1.2}, 2.0, (2, 2, 3)),
    ("TBIL", 20.0, {"uln": 1.2}, 2.0, (3, 3, 4)),
    # creatinine increased: G1 >ULN-1.5, G2 >1.5-3.0, G3 >3.0-6.0, G4 >6.0 x ULN, and
    # G2 >1.5 x baseline, G3 >3.0 x baseline
    ("CREAT", 1.0, {"uln": 1.0}, None, (0, 0, 1)),
    ("CREAT", 1.5, {"uln": 1.0}, None, (1, 1, 2)),
    ("CREAT", 3.0, {"uln": 1.0}, None, (2, 2, 3)),
    ("CREAT", 6.0, {"uln": 1.0}, None, (3, 3, 4)),
    ("CREAT", 0.75, {"uln": 1.0}, 0.5, (0, 0, 2)),
    ("CREAT", 1.5, {"uln": 2.0}, 0.5, (2, 2, 3)),
    # hypoalbuminemia: G1 <LLN-30, G2 <30-20, G3 <20 g/L
    ("ALB", 35.0, {"lln": 35.0}, None, (1, 0, 0)),
    ("ALB", 30.0, {"lln": 35.0}, None, (2, 1, 1)),
    ("ALB", 20.0, {"lln": 35.0}, None, (3, 2, 2)),
    # INR increased (no anticoagulation): G1 >1.2-1.5, G2 >1.5-2.5, G3 >2.5
    ("INR", 1.2, {}, None, (0, 0, 1)),
    ("INR", 1.5, {}, None, (1, 1, 2)),
    ("INR", 2.5, {}, None, (2, 2, 3)),
    # proteinuria: dipstick 1+ G1, 2+ and 3+ G2; 24 h (and UPCR) >=ULN-<1.0 G1, 1.0-<3.5 G2,
    # >=3.5 g G3
    ("UPRO_DIP", 1.0, {}, None, (0, 1, 1)),
    ("UPRO_DIP", 2.0, {}, None, (1, 2, 2)),
    ("UPRO_24H", 0.15, {"uln": 0.15}, None, (0, 1, 1)),
    ("UPRO_24H", 1.0, {"uln": 0.15}, None, (1, 2, 2)),
    ("UPRO_24H", 3.5, {"uln": 0.15}, None, (2, 3, 3)),
    ("UPCR", 0.2, {"uln": 0.2}, None, (0, 1, 1)),
    ("UPCR", 1.0, {"uln": 0.2}, None, (1, 2, 2)),
    ("UPCR", 3.5, {"uln": 0.2}, None, (2, 3, 3)),
    # hypertension: G1 SBP 120-139 or DBP 80-89, G2 140-159 or 90-99, G3 >=160 or >=100
    ("SBP", 120.0, {}, None, (0, 1, 1)),
    ("SBP", 140.0, {}, None, (1, 2, 2)),
    ("SBP", 160.0, {}, None, (2, 3, 3)),
    ("DBP", 80.0, {}, None, (0, 1, 1)),
    ("DBP", 90.0, {}, None, (1, 2, 2)),
    ("DBP", 100.0, {}, None, (2, 3, 3)),
    # QTc prolonged: G1 450-480, G2 481-500, G3 >=501 ms or >60 ms over baseline
    ("QTC", 450.0, {}, None, (0, 1, 1)),
    ("QTC", 480.0, {}, None, (1, 1, 2)),
    ("QTC", 500.0, {}, None, (2, 2, 3)),
    ("QTC", 460.0, {}, 400.0, (1, 1, 3)),
    # a raised TSH: hypothyroidism grade 1 (diagnostic observation)
    ("TSH", 4.2, {"uln": 4.2}, None, (0, 0, 1)),
]


def _grade(code: str, value: float, ranges: dict[str, float], baseline: float | None) -> int:
    test = TABLE.tests[code]
    reference = None
    if baseline is not None:
        reference = Measured(value=baseline, lln=ranges.get("lln"), uln=ranges.get("uln"))
    result = grade(test, Measured(value=value, **ranges), reference)
    assert result is not None
    return result


@pytest.mark.parametrize(
    ("code", "boundary", "ranges", "baseline", "expected"),
    BOUNDARIES,
    ids=[f"{c}-{b:g}" + (f"-baseline{base:g}" if base else "") for c, b, _, base, _ in BOUNDARIES],
)
def test_grade_below_on_and_above_each_ctcae_boundary(code, boundary, ranges, baseline, expected):
    step = boundary * STEP
    found = tuple(
        _grade(code, value, ranges, baseline)
        for value in (boundary - step, boundary, boundary + step)
    )
    assert found == expected


def test_every_graded_test_has_each_of_its_boundaries_checked_here():
    """A grade added to the table without a boundary case above fails here."""
    covered = {code for code, *_ in BOUNDARIES}
    graded = {code for code, test in TABLE.tests.items() if test.grades}
    assert graded == covered
    for code in graded:
        test = TABLE.tests[code]
        cases = sum(1 for c, *_ in BOUNDARIES if c == code)
        assert cases >= len({b.grade for b in test.grades}), code


def test_a_liver_test_is_graded_against_an_abnormal_baseline_only():
    alt = TABLE.tests["ALT"]
    normal = Measured(value=30.0, uln=40.0)
    high = Measured(value=100.0, uln=40.0)
    assert not baseline_abnormal(alt, normal)
    assert baseline_abnormal(alt, high)
    # 130 U/L is grade 2 against the ULN (3.25 x) but grade 0 against a baseline of 100.
    assert grade(alt, Measured(value=130.0, uln=40.0), normal) == 2
    assert grade(alt, Measured(value=130.0, uln=40.0), high) == 0


def test_tests_that_ctcae_does_not_grade_have_no_grade():
    assert grade(TABLE.tests["CRCL"], Measured(value=20.0)) is None
    assert grade(TABLE.tests["FT4"], Measured(value=2.0)) is None


def test_a_result_without_the_limit_its_grades_need_is_refused_naming_it():
    with pytest.raises(InputError) as error:
        grade(TABLE.tests["ALT"], Measured(value=88.0))
    assert error.value.field == "uln"
    with pytest.raises(InputError) as error:
        grade(TABLE.tests["ANC"], Measured(value=1.2))
    assert error.value.field == "lln"


def test_terms_without_grade_4_in_ctcae_are_capped_below_it():
    assert TABLE.term_max_grade("Palmar-plantar erythrodysesthesia syndrome") == 3
    assert TABLE.term_max_grade("proteinuria") == 3
    assert TABLE.term_max_grade("diarrhea") == 5
    for code in ("UPRO_DIP", "UPRO_24H", "UPCR"):
        assert TABLE.tests[code].max_grade <= 3


def test_a_table_with_a_bound_against_the_tests_direction_is_refused():
    text = """version = "5.0"
[tests.X]
name = "x"
term = "x increased"
sdtm = "X"
direction = "high"
unit = "U/L"
units = ["U/L"]
grades = [{ grade = 1, below = 3.0 }]
"""
    with pytest.raises(ProtocolError) as error:
        parse_grading_table(text)
    assert "monotonic" in str(error.value)


_RANGES = {"uln": 40.0, "lln": 10.0}


@st.composite
def _cases(draw):
    code = draw(st.sampled_from(sorted(c for c, t in TABLE.tests.items() if t.grades)))
    scale = draw(st.sampled_from([0.1, 1.0, 100.0]))
    a = draw(st.floats(min_value=0, max_value=1000 * scale, allow_nan=False))
    b = draw(st.floats(min_value=0, max_value=1000 * scale, allow_nan=False))
    baseline = draw(st.none() | st.floats(min_value=0.01, max_value=1000 * scale, allow_nan=False))
    uln = draw(st.floats(min_value=0.01, max_value=500 * scale, allow_nan=False))
    lln = draw(st.floats(min_value=0.0, max_value=500 * scale, allow_nan=False))
    return code, min(a, b), max(a, b), baseline, {"uln": uln, "lln": lln}


@given(_cases())
def test_the_grade_never_falls_as_the_value_moves_the_way_the_test_grades(case):
    code, low, high, baseline, ranges = case
    test = TABLE.tests[code]
    reference = None if baseline is None else Measured(value=baseline, **ranges)
    at_low = grade(test, Measured(value=low, **ranges), reference)
    at_high = grade(test, Measured(value=high, **ranges), reference)
    assert at_low is not None and at_high is not None
    if test.direction == "high":
        assert at_low <= at_high
    else:
        assert at_low >= at_high
