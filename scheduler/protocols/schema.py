"""The protocol file format.

A regimen is described entirely here, so a new drug, another on/off pattern or another visit
plan needs a new TOML file and no code. Validation is strict (unknown keys are refused) because a
typo in a protocol file is a clinical error, not a style issue.
"""

from __future__ import annotations

import itertools
import re
from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_RANGE_ITEM = re.compile(r"^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$")


class KeyedValueError(ValueError):
    """A check on a whole table that knows which key below it is wrong, so the loader can name
    ``dose_levels[1].dose_mg`` instead of the table (pydantic places such errors on the table)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def parse_day_ranges(spec: str) -> tuple[int, ...]:
    """Read "1-14" or "1-7,15-21" into sorted day numbers; protocols speak in ranges."""
    days: set[int] = set()
    for part in spec.split(","):
        match = _RANGE_ITEM.match(part)
        if match is None:
            raise ValueError(f"expected ranges like '1-14' or '1-7,15-21', got {spec!r}")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise ValueError(f"range {part.strip()!r} ends before it starts")
        days.update(range(first, last + 1))
    return tuple(sorted(days))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Drug(_Strict):
    name: str = Field(min_length=1)
    route: str = "PO"
    form: str = "capsule"
    unit: Literal["mg"] = "mg"


class DoseUnit(_Strict):
    """One kind of capsule or tablet in a dose: its strength and how many make one dose."""

    strength_mg: float = Field(gt=0)
    count: int = Field(ge=1)


class DoseLevel(_Strict):
    level: int
    dose_mg: float = Field(gt=0)
    label: str = ""
    units: tuple[DoseUnit, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _units_make_the_dose(self) -> DoseLevel:
        total = sum(unit.strength_mg * unit.count for unit in self.units)
        if abs(total - self.dose_mg) > 1e-9:
            raise KeyedValueError(
                "units", f"units add up to {total:g} mg but the dose level is {self.dose_mg:g} mg"
            )
        return self


class Schedule(_Strict):
    cycle_length_days: int = Field(ge=1, le=366)
    dosing_days: tuple[int, ...]
    cycles: int = Field(ge=1, le=200)
    administrations_per_day: int = Field(default=1, ge=1, le=6)
    administration_interval_hours: int = Field(default=12, ge=1, le=23)
    default_dose_time: time = time(8, 0)

    @field_validator("dosing_days", mode="before")
    @classmethod
    def _read_ranges(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_day_ranges(value)
        return value

    @model_validator(mode="after")
    def _days_fit_the_cycle(self) -> Schedule:
        if not self.dosing_days:
            raise ValueError("dosing_days is empty")
        bad = [d for d in self.dosing_days if not 1 <= d <= self.cycle_length_days]
        if bad:
            raise KeyedValueError(
                "dosing_days",
                f"dosing_days {bad} fall outside a {self.cycle_length_days}-day cycle",
            )
        span = (self.administrations_per_day - 1) * self.administration_interval_hours
        if span >= 24:
            raise KeyedValueError(
                "administration_interval_hours",
                "administrations of one day must fit within 24 hours",
            )
        return self


class Limits(_Strict):
    max_hold_days: int = Field(ge=0)
    max_delay_days: int = Field(ge=0)
    late_dose_hours: int = Field(ge=0, le=23)
    on_time_minutes: int = Field(default=60, ge=0)


class Pharmacy(_Strict):
    lead_working_days: int = Field(ge=0, le=30)


class Enrolment(_Strict):
    """``[enrolment]``: the dates a subject may be enrolled with. Outside them, enrolment needs
    the investigator's reason and is kept as a protocol deviation."""

    surgery_to_c1d1_min_days: int = Field(ge=1)
    surgery_to_c1d1_max_days: int = Field(ge=1)
    """The allowed interval from surgery to cycle 1 day 1, both ends included."""

    @model_validator(mode="after")
    def _ordered(self) -> Enrolment:
        if self.surgery_to_c1d1_max_days < self.surgery_to_c1d1_min_days:
            raise KeyedValueError(
                "surgery_to_c1d1_max_days",
                "the longest interval from surgery to C1D1 is shorter than the shortest",
            )
        return self


_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_TRANSLATABLE = ("name", "bring", "procedures")


class VisitText(_Strict):
    """A visit's patient-facing text in one more language (``name`` may hold ``{cycle}``)."""

    name: str = Field(default="", min_length=1)
    bring: str = ""
    procedures: tuple[str, ...] = ()


def _split_translations(raw: dict[str, object], keys: tuple[str, ...]) -> dict[str, object]:
    """``name.en = "Screening"`` and ``name.zh_CN = "筛选"`` (a table per translatable key)
    into ``name = "Screening"`` and ``translations.zh_CN.name = "筛选"``; a plain string is the
    source language alone. The source text must be given as ``en`` when a key is a table."""
    if not any(isinstance(raw.get(key), dict) for key in keys):
        return raw
    data = dict(raw)
    translations: dict[str, dict[str, object]] = {}
    for key in keys:
        value = data.get(key)
        if not isinstance(value, dict):
            continue
        texts = dict(value)
        if "en" not in texts:
            raise KeyedValueError(f"{key}.en", "a translated key needs its source text as 'en'")
        data[key] = texts.pop("en")
        for language, text in texts.items():
            translations.setdefault(language, {})[key] = text
    data["translations"] = translations
    return data


class Visit(_Strict):
    """One line of the visit plan; ``cycles`` repeats it for each cycle in the range.

    ``name``, ``bring`` and ``procedures`` are what a patient reads (feed, handout, reminders);
    each may be a table of languages (``name.en``, ``name.zh_CN``), gathered in
    ``translations``."""

    code: str = Field(min_length=1, max_length=24)
    name: str = Field(min_length=1)
    anchor: Literal["cycle", "surgery", "last_dose"]
    cycles: tuple[int, ...] = ()
    offset_days: int = 0
    offset_months: int = 0
    window_before: int = Field(ge=0)
    window_after: int = Field(ge=0)
    procedures: tuple[str, ...] = ()
    bring: str = ""
    dispense: bool = False
    translations: dict[str, VisitText] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_translations(cls, value: object) -> object:
        if isinstance(value, dict):
            return _split_translations(value, _TRANSLATABLE)
        return value

    def text(self, language: str) -> VisitText:
        """This visit's patient text in ``language``, the source text where none is given."""
        return self.translations.get(language) or VisitText(
            name=self.name, bring=self.bring, procedures=self.procedures
        )

    def missing_translation(self, language: str) -> str | None:
        """The first key with no translation into a declared ``language``, or None."""
        given = self.translations.get(language)
        if given is None or not given.name:
            return f"name.{language}"
        if self.bring and not given.bring:
            return f"bring.{language}"
        if len(given.procedures) != len(self.procedures):
            return f"procedures.{language}"
        return None

    @field_validator("cycles", mode="before")
    @classmethod
    def _read_ranges(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_day_ranges(value)
        return value

    @model_validator(mode="after")
    def _anchor_is_complete(self) -> Visit:
        if self.anchor == "cycle" and not self.cycles:
            raise ValueError("a visit anchored to a cycle needs 'cycles'")
        if self.anchor != "cycle" and self.cycles:
            raise ValueError(f"'cycles' only applies to anchor 'cycle', not {self.anchor!r}")
        if self.offset_months and self.anchor != "surgery":
            raise ValueError("offset_months only applies to anchor 'surgery'")
        if len(self.cycles) > 1 and "{cycle}" not in self.code:
            raise ValueError("a visit repeated over cycles needs '{cycle}' in its code")
        return self


Action = Literal["continue", "continue_may_hold", "hold", "hold_then_reduce", "discontinue"]


class ToxicityRule(_Strict):
    """A row of the toxicity table. Rules are tried in file order; the first match wins."""

    id: str = Field(min_length=1)
    description: str
    terms: tuple[str, ...] = ("*",)
    lab_only: bool = False
    min_grade: int = Field(ge=1, le=5)
    max_grade: int = Field(default=5, ge=1, le=5)
    related: Literal["related", "any"] = "related"
    intolerable: bool | None = None
    action: Action
    resume_when: str = ""

    @model_validator(mode="after")
    def _grades_ordered(self) -> ToxicityRule:
        if self.max_grade < self.min_grade:
            raise ValueError("max_grade is below min_grade")
        return self


class UrineProteinFollowup(_Strict):
    """A dipstick at or above ``dipstick_from`` is no hold by itself: it orders a quantified
    urine protein (one of ``followed_by``), which takes precedence."""

    dipstick_test: str = "UPRO_DIP"
    dipstick_from: float = Field(default=2.0, gt=0)
    followed_by: tuple[str, ...] = ("UPRO_24H", "UPCR")


class HysLaw(_Strict):
    """ALT or AST above ``transaminase_x_uln`` x ULN with total bilirubin above
    ``bilirubin_x_uln`` x ULN, both sampled on one day: recorded as an adverse event of
    ``term``, which the rule table discontinues."""

    transaminase_x_uln: float = Field(default=3.0, gt=0)
    bilirubin_x_uln: float = Field(default=2.0, gt=0)
    term: str = "hy's law pattern"


class BloodPressureLimit(_Strict):
    """A blood pressure at or above either number is "at or above" the limit."""

    systolic: float = Field(gt=0)
    diastolic: float = Field(gt=0)


class HomeBloodPressure(_Strict):
    """Home readings on the dosing days of ``cycles``; one at or above ``alert_at`` lists the
    subject on the worklist."""

    cycles: tuple[int, ...]
    alert_at: BloodPressureLimit

    @field_validator("cycles", mode="before")
    @classmethod
    def _read_ranges(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_day_ranges(value)
        return value


class LabRules(_Strict):
    """``[labs]``: what the protocol does with results graded by the CTCAE table."""

    ae_min_grade: int = Field(default=2, ge=1, le=4)
    """A result graded at least this (on or after cycle 1 day 1) records an adverse event."""
    ae_min_grade_by_test: dict[str, int] = Field(default_factory=dict)
    no_ae_tests: tuple[str, ...] = ()
    """Tests whose grade never records an adverse event (a dipstick orders a 24 h test)."""
    day1_lookback_days: int = Field(default=3, ge=0, le=28)
    """Results up to this many days before a cycle's day 1 count for its day-1 criteria."""
    urine_protein_followup: UrineProteinFollowup | None = None
    hys_law: HysLaw | None = None
    hypertension_resume_below: BloodPressureLimit | None = None
    """Treatment resumes, and a cycle starts, only below this blood pressure."""
    home_bp: HomeBloodPressure | None = None

    def ae_threshold(self, test: str) -> int:
        return self.ae_min_grade_by_test.get(test, self.ae_min_grade)


class Day1Criterion(_Strict):
    """One day-1 criterion. With ``tests`` it is computed from the results recorded within the
    look-back: each test's latest result must reach ``at_least``/stay ``below``/``at_most``
    (``of = "uln"``: multiples of that result's ULN), in the grading unit. ``or_tests`` is a
    quantified alternative that decides instead when recorded (24 h protein for a dipstick).
    ``related_aes_recovered`` checks that each related adverse event is back to grade <= 1."""

    code: str
    description: str
    tests: tuple[str, ...] = ()
    at_least: float | None = None
    below: float | None = None
    at_most: float | None = None
    of: Literal["value", "uln"] = "value"
    or_tests: tuple[str, ...] = ()
    or_at_most: float | None = None
    related_aes_recovered: bool = False

    @model_validator(mode="after")
    def _one_limit(self) -> Day1Criterion:
        limits = [x for x in (self.at_least, self.below, self.at_most) if x is not None]
        if self.tests and len(limits) != 1:
            raise ValueError("a criterion on tests needs exactly one of at_least, below, at_most")
        if self.or_tests and self.or_at_most is None:
            raise KeyedValueError("or_at_most", "or_tests need or_at_most")
        return self

    @property
    def computed(self) -> bool:
        return bool(self.tests) or self.related_aes_recovered


class EligibilityCriterion(_Strict):
    """One line of the screening checklist (``[[eligibility]]``). An inclusion is met when
    answered "yes" (``answer = "yes_no"``), or when its value or lab result is within the
    limits; an exclusion is met (the subject is not excluded) when answered "no", or when the
    value is outside them. ``answer = "lab"`` is filled from the recorded results (each of
    ``tests``' latest result up to C1D1; ``of = "uln"``: multiples of its ULN)."""

    code: str = Field(min_length=1, max_length=24)
    kind: Literal["inclusion", "exclusion"]
    text: str = Field(min_length=1)
    answer: Literal["yes_no", "value", "lab"]
    unit: str = ""
    tests: tuple[str, ...] = ()
    above: float | None = None
    at_least: float | None = None
    below: float | None = None
    at_most: float | None = None
    of: Literal["value", "uln"] = "value"

    @model_validator(mode="after")
    def _complete(self) -> EligibilityCriterion:
        limits = [self.above, self.at_least, self.below, self.at_most]
        given = [x for x in limits if x is not None]
        if self.answer == "yes_no" and (given or self.tests):
            raise ValueError("a yes/no criterion has no limits or tests")
        if self.answer != "yes_no" and not given:
            raise ValueError(f"a {self.answer} criterion needs at least one limit")
        if (self.answer == "lab") != bool(self.tests):
            raise ValueError("tests go with answer = 'lab' (and only with it)")
        return self


class Protocol(_Strict):
    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    title: str
    title_translations: dict[str, str] = Field(default_factory=dict)
    """``title.zh_CN`` in the file: the study's title as the handout prints it."""
    languages: tuple[str, ...] = ()
    """Languages besides the source (English) whose every patient-facing string this file
    translates; loading names the first missing key."""
    study_id: str = Field(min_length=1)
    drug: Drug
    dose_levels: tuple[DoseLevel, ...] = Field(min_length=1)
    schedule: Schedule
    limits: Limits
    pharmacy: Pharmacy
    visits: tuple[Visit, ...] = Field(min_length=1)
    toxicity_rules: tuple[ToxicityRule, ...] = ()
    lab_terms: tuple[str, ...] = ()
    ae_terms: tuple[str, ...] = ()
    """CTCAE terms the adverse event form offers (those expected with the drug); the rule
    table's and lab terms are offered too, and any other term may be typed."""
    day1_criteria: tuple[Day1Criterion, ...] = ()
    enrolment: Enrolment | None = None
    labs: LabRules | None = None
    eligibility: tuple[EligibilityCriterion, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _gather_title(cls, value: object) -> object:
        if isinstance(value, dict) and isinstance(value.get("title"), dict):
            data = dict(value)
            texts = dict(data["title"])
            if "en" not in texts:
                raise KeyedValueError("title.en", "a translated key needs its source text as 'en'")
            data["title"] = texts.pop("en")
            data["title_translations"] = texts
            return data
        return value

    def title_in(self, language: str) -> str:
        return self.title_translations.get(language, self.title)

    def visit_text(self, code: str, language: str) -> VisitText | None:
        """The patient text of the planned visit ``code`` ("C3D1") in ``language``, its
        ``{cycle}`` filled in; None when no visit line has that code."""
        for visit in self.visits:
            numbers = visit.cycles or (None,)
            for number in numbers:
                expanded = visit.code.format(cycle=number) if number is not None else visit.code
                if expanded == code:
                    text = visit.text(language)
                    if number is None:
                        return text
                    return text.model_copy(update={"name": text.name.format(cycle=number)})
        return None

    def _check_translations(self) -> None:
        for language in self.languages:
            if not _LANGUAGE.fullmatch(language) or language == "en":
                raise KeyedValueError(
                    "languages", f"{language!r} is not a language to translate into (e.g. zh_CN)"
                )
            if language not in self.title_translations:
                raise KeyedValueError(f"title.{language}", "the title has no translation")
        for index, visit in enumerate(self.visits):
            for language in visit.translations:
                if language not in self.languages:
                    raise KeyedValueError(
                        f"visits[{index}].name.{language}",
                        f"{language!r} is not declared in 'languages'",
                    )
            for language in self.languages:
                missing = visit.missing_translation(language)
                if missing is not None:
                    raise KeyedValueError(
                        f"visits[{index}].{missing}",
                        f"the protocol declares {language!r}: every visit needs this text",
                    )
        for language in self.title_translations:
            if language not in self.languages:
                raise KeyedValueError(
                    f"title.{language}", f"{language!r} is not declared in 'languages'"
                )

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        self._check_translations()
        for index, (a, b) in enumerate(itertools.pairwise(self.dose_levels), start=1):
            if b.dose_mg >= a.dose_mg:
                raise KeyedValueError(
                    f"dose_levels[{index}].dose_mg",
                    f"dose_levels must be listed from the starting dose downwards "
                    f"({b.dose_mg:g} mg follows {a.dose_mg:g} mg)",
                )
        codes: set[str] = set()
        for index, visit in enumerate(self.visits):
            expanded = (
                [visit.code.format(cycle=n) for n in visit.cycles] if visit.cycles else [visit.code]
            )
            for code in expanded:
                if code in codes:
                    raise KeyedValueError(
                        f"visits[{index}].code", f"visit code {code!r} appears twice"
                    )
                codes.add(code)
            too_far = [n for n in visit.cycles if n > self.schedule.cycles]
            if too_far:
                raise KeyedValueError(
                    f"visits[{index}].cycles",
                    f"visit {visit.code!r} names cycles {too_far} beyond the "
                    f"{self.schedule.cycles} cycles of the schedule",
                )
        return self

    @property
    def needs_surgery(self) -> bool:
        """Whether a subject's plan has visits anchored to the surgery date, so that enrolment
        must give it."""
        return any(visit.anchor == "surgery" for visit in self.visits) or self.enrolment is not None

    @property
    def starting_dose_mg(self) -> float:
        return self.dose_levels[0].dose_mg

    def level_for(self, dose_mg: float) -> DoseLevel | None:
        for level in self.dose_levels:
            if abs(level.dose_mg - dose_mg) < 1e-9:
                return level
        return None
