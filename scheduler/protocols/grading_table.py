"""The CTCAE grading table shipped with the package (``grading/ctcae_v5.toml``): for each test
the scheduler records, its CTCAE term, grading unit, the units a lab may report it in, and the
lower bound of each grade. Validated as strictly as a protocol file, because a typo in a grade
boundary is a clinical error."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scheduler.errors import ProtocolError

Reference = Literal["value", "uln", "lln", "baseline", "change"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GradeBound(_Strict):
    """The lower bound of one grade: exactly one of the four comparisons, against ``of``."""

    grade: int = Field(ge=1, le=4)
    above: float | None = None
    at_least: float | None = None
    below: float | None = None
    at_most: float | None = None
    of: Reference = "value"

    @model_validator(mode="after")
    def _one_comparison(self) -> GradeBound:
        given = [x for x in (self.above, self.at_least, self.below, self.at_most) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of above, at_least, below, at_most")
        return self

    @property
    def rises(self) -> bool:
        """Whether the grade is reached by a value above the bound (``above``/``at_least``)."""
        return self.above is not None or self.at_least is not None

    @property
    def bound(self) -> float:
        for value in (self.above, self.at_least, self.below, self.at_most):
            if value is not None:
                return value
        raise AssertionError("validated: one comparison is given")

    @property
    def inclusive(self) -> bool:
        return self.at_least is not None or self.at_most is not None


class LabTest(_Strict):
    code: str = ""
    name: str = Field(min_length=1)
    term: str
    """The CTCAE term a graded result is reported under; empty for a test CTCAE does not grade."""
    sdtm: str = Field(min_length=1, max_length=8)
    direction: Literal["high", "low"]
    unit: str = Field(min_length=1)
    """The grading unit: values are converted to it before grading."""
    units: tuple[str, ...] = Field(min_length=1)
    molar_mass_g_per_mol: float | None = Field(default=None, gt=0)
    vital_sign: bool = False
    grades: tuple[GradeBound, ...] = ()
    abnormal_baseline_grades: tuple[GradeBound, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> LabTest:
        if self.unit not in self.units:
            raise ValueError(f"the grading unit {self.unit!r} is not among units")
        rising = self.direction == "high"
        for bound in (*self.grades, *self.abnormal_baseline_grades):
            if bound.rises != rising and bound.of != "change":
                raise ValueError(
                    f"grade {bound.grade}: a {self.direction} test's bounds must go "
                    f"{'up' if rising else 'down'} (monotonic grading)"
                )
            if bound.of == "change" and not bound.rises:
                raise ValueError(f"grade {bound.grade}: a change from baseline must rise")
        if self.grades and not self.term:
            raise ValueError("a graded test needs its CTCAE term")
        return self

    @property
    def max_grade(self) -> int:
        return max((b.grade for b in (*self.grades, *self.abnormal_baseline_grades)), default=0)

    def needs(self) -> tuple[Reference, ...]:
        """The references a result must come with to be graded (the ULN, the LLN)."""
        used = {b.of for b in self.grades} & {"uln", "lln"}
        return tuple(sorted(used))


class GradingTable(_Strict):
    version: str
    tests: dict[str, LabTest]
    term_max_grades: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _codes(self) -> GradingTable:
        object.__setattr__(
            self,
            "tests",
            {code: test.model_copy(update={"code": code}) for code, test in self.tests.items()},
        )
        return self

    def test(self, code: str) -> LabTest | None:
        return self.tests.get(code.strip().upper())

    def term_max_grade(self, term: str) -> int:
        """The highest grade CTCAE defines for ``term`` (5 unless the table says less)."""
        return self.term_max_grades.get(term.strip().casefold(), 5)


_SOURCE = "scheduler/protocols/grading/ctcae_v5.toml"


def parse_grading_table(text: str, source: str = _SOURCE) -> GradingTable:
    try:
        return GradingTable.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(source, "(syntax)", str(exc)) from exc
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ProtocolError(source, path, first["msg"]) from exc


@lru_cache(maxsize=1)
def ctcae_v5() -> GradingTable:
    """The shipped table, read once per process."""
    text = (
        resources.files("scheduler.protocols")
        .joinpath("grading", "ctcae_v5.toml")
        .read_text(encoding="utf-8")
    )
    return parse_grading_table(text)
