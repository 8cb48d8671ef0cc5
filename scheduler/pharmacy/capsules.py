"""How many capsules of which strength make one cycle at a dose: the dose level's units, times
the dosing days, times the administrations per day."""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.errors import InputError
from scheduler.protocols.schema import Protocol


@dataclass(frozen=True)
class CapsuleLine:
    strength_mg: float
    count: int


def capsules_for(protocol: Protocol, dose_mg: float) -> tuple[int, tuple[CapsuleLine, ...]]:
    """The dose level number and the capsules for one full cycle at ``dose_mg``."""
    level = protocol.level_for(dose_mg)
    if level is None:
        raise InputError("dose_mg", f"{dose_mg:g} mg is not a dose level of {protocol.id}")
    per_cycle = len(protocol.schedule.dosing_days) * protocol.schedule.administrations_per_day
    return level.level, tuple(CapsuleLine(u.strength_mg, u.count * per_cycle) for u in level.units)
