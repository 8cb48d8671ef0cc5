"""Lab units: the spellings labs report in, converted to a test's grading unit by pint.

Conversions between mass and amount of substance (bilirubin in umol/L or mg/dL, creatinine,
free T4) use the test's molar mass from the grading table through pint's chemistry context;
nothing here is a hand-written factor. A unit a test does not list is refused, naming it.
"""

from __future__ import annotations

from functools import lru_cache

import pint

from scheduler.errors import InputError
from scheduler.protocols.grading_table import LabTest

_PINT_EXPRESSION = {
    "10^9/L": "1e9 / L",
    "x10^9/L": "1e9 / L",
    "G/L": "1e9 / L",
    "/uL": "1 / uL",
    "cells/uL": "1 / uL",
    "/mm3": "1 / mm**3",
    "g/dL": "g / dL",
    "g/L": "g / L",
    "mg/dL": "mg / dL",
    "umol/L": "umol / L",
    "U/L": "U / L",
    "IU/L": "U / L",  # an enzyme's international unit is pint's enzyme unit (1 umol/min)
    "ukat/L": "ukat / L",
    "mL/min": "mL / min",
    "ratio": "dimensionless",
    "+": "dimensionless",
    "g/24h": "g",
    "mg/24h": "mg",
    "g/g": "g / g",
    "mg/mg": "mg / mg",
    "mg/g": "mg / g",
    "mmHg": "mmHg",
    "ms": "ms",
    "mIU/L": "mIU / L",
    "uIU/mL": "uIU / mL",
    "pmol/L": "pmol / L",
    "ng/dL": "ng / dL",
}
"""How each unit spelling the grading table uses reads in pint (24 h amounts are per sample)."""


@lru_cache(maxsize=1)
def _registry() -> pint.UnitRegistry:  # type: ignore[type-arg]
    registry: pint.UnitRegistry = pint.UnitRegistry()  # type: ignore[type-arg]
    # Hormone international units (TSH) are their own dimension: no mass or amount equals one.
    registry.define("international_unit = [hormone_activity] = IU")
    return registry


def load_unit_registry() -> None:
    """Build pint's registry now, a quarter of a second of CPU: `dosing resident` does, once
    for all the commands it forks, not in each lab command that converts a unit."""
    _registry()


def known_units() -> tuple[str, ...]:
    return tuple(_PINT_EXPRESSION)


def check_unit(test: LabTest, unit: str) -> str:
    """``unit`` as the table spells it, or InputError naming the unit field."""
    text = unit.strip()
    for allowed in test.units:
        if text.casefold() == allowed.casefold():
            return allowed
    raise InputError(
        "unit", f"{unit!r} is not a unit of {test.code} (one of: {', '.join(test.units)})"
    )


def to_grading_unit(test: LabTest, value: float, unit: str) -> float:
    """``value`` in ``unit`` (already checked against the test) in the test's grading unit."""
    if unit == test.unit:
        return value
    return value * _factor(unit, test.unit, test.molar_mass_g_per_mol)


@lru_cache(maxsize=256)
def _factor(unit: str, grading_unit: str, molar_mass_g_per_mol: float | None) -> float:
    """One ``unit`` in ``grading_unit``: every lab unit is a scale of its grading unit (none has
    an offset, as temperatures would), so pint is asked once per pair, not per result."""
    registry = _registry()
    source = registry.parse_expression(_PINT_EXPRESSION[unit])
    target = registry.parse_expression(_PINT_EXPRESSION[grading_unit])
    if molar_mass_g_per_mol is not None:
        molar_mass = registry.Quantity(molar_mass_g_per_mol, "g/mol")
        converted = source.to(target.units, "chemistry", mw=molar_mass)
    else:
        converted = source.to(target.units)
    return float(converted.magnitude / target.magnitude)
