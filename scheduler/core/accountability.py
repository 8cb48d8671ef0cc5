"""Drug accountability: what the dose records say about capsules and dose intensity.

The pharmacy's records (dispensings, returns, reviews) are stored by the service; the rules
that judge them against the plan live here, so they can be read and tested without a database.
Any record with the attributes named in ``CapsuleCount`` and ``Review`` will do, the service's
stored rows included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol as Structure

from scheduler.core.outputs import TAKEN, CyclePlan
from scheduler.core.plan import Plan
from scheduler.protocols.schema import Protocol


class CapsuleCount(Structure):
    """A dispensing or a return: capsules of one strength, for one cycle."""

    @property
    def cycle(self) -> int: ...
    @property
    def strength_mg(self) -> float: ...
    @property
    def capsule_count(self) -> int: ...
    @property
    def recorded_at(self) -> datetime: ...


class Review(Structure):
    """An explanation of a cycle's discrepancy, which clears it until the counts change."""

    @property
    def cycle(self) -> int: ...
    @property
    def recorded_at(self) -> datetime: ...


@dataclass(frozen=True)
class Reconciliation:
    """One cycle and strength: what went out, what came back, and what the dose records imply."""

    subject: str
    cycle: int
    strength_mg: float
    dispensed: int
    returned: int | None
    taken_capsules: int
    expected_return: int
    discrepancy: int | None
    """Returned minus expected: negative means capsules unaccounted for; None until counted."""
    reviewed: bool


def _latest(rows: Iterable[CapsuleCount], cycle: int) -> dict[float, CapsuleCount]:
    """The count that counts per strength: the latest recorded (a correction is a new row)."""
    latest: dict[float, CapsuleCount] = {}
    for row in rows:
        if row.cycle == cycle:
            latest[row.strength_mg] = row
    return latest


def _taken_capsules(protocol: Protocol, cycle: CyclePlan, strength: float) -> int:
    total = 0
    for slot in cycle.doses:
        if slot.status not in TAKEN:
            continue
        level = protocol.level_for(slot.dose_mg)
        if level is not None:
            total += sum(u.count for u in level.units if u.strength_mg == strength)
    return total


def reconciliation(
    plan: Plan,
    *,
    dispensed: Iterable[CapsuleCount],
    returned: Iterable[CapsuleCount],
    reviews: Iterable[Review],
) -> list[Reconciliation]:
    """``dose_levels[].units``: capsules dispensed minus those the taken and late doses used
    (at each dose's level) is what should come back; a return that differs is a discrepancy,
    open until a review recorded after the latest count explains it.

    Records are passed oldest first; for each cycle and strength the latest one counts.
    """
    dispensed, returned, reviews = tuple(dispensed), tuple(returned), tuple(reviews)
    lines = []
    for cycle in plan.cycles:
        out_by_strength = _latest(dispensed, cycle.number)
        if not out_by_strength:
            continue
        back_by_strength = _latest(returned, cycle.number)
        for strength, out in sorted(out_by_strength.items()):
            back = back_by_strength.get(strength)
            taken = _taken_capsules(plan.protocol, cycle, strength)
            expected = out.capsule_count - taken
            discrepancy = None if back is None else back.capsule_count - expected
            changed = max([out.recorded_at] + ([back.recorded_at] if back is not None else []))
            reviewed = any(r.cycle == cycle.number and r.recorded_at >= changed for r in reviews)
            lines.append(
                Reconciliation(
                    subject=plan.subject,
                    cycle=cycle.number,
                    strength_mg=strength,
                    dispensed=out.capsule_count,
                    returned=None if back is None else back.capsule_count,
                    taken_capsules=taken,
                    expected_return=expected,
                    discrepancy=discrepancy,
                    reviewed=reviewed,
                )
            )
    return lines


@dataclass(frozen=True)
class CycleIntensity:
    cycle: int
    planned_mg: float
    """Milligrams the cycle would have given at the starting dose, every dose taken."""
    taken_mg: float
    relative_dose_intensity: float


@dataclass(frozen=True)
class DoseSummary:
    subject: str
    planned: int
    taken: int
    missed: int
    held: int
    cycles: tuple[CycleIntensity, ...]
    relative_dose_intensity: float | None
    """Over the cycles started so far; None before the first."""


def starting_dose(protocol: Protocol) -> float:
    """Dose level 0 by the protocol's numbering; the highest dose if it has no level 0."""
    zero = [lv for lv in protocol.dose_levels if lv.level == 0]
    return zero[0].dose_mg if zero else max(lv.dose_mg for lv in protocol.dose_levels)


def relative_dose_intensity(plan: Plan) -> DoseSummary:
    """``dose_levels`` (level 0) and ``schedule``: milligrams taken (taken and late doses) over
    what every dose of each started cycle would have given at the starting dose, per cycle and
    over all of them; with counts of the slots not cancelled."""
    slots = [s for s in plan.doses() if s.status != "cancelled"]
    schedule = plan.protocol.schedule
    per_cycle = len(schedule.dosing_days) * schedule.administrations_per_day
    full = starting_dose(plan.protocol) * per_cycle
    intensities = []
    for cycle in plan.cycles:
        if cycle.status not in ("in_progress", "completed", "stopped"):
            continue
        taken = sum(s.dose_mg for s in cycle.doses if s.status in TAKEN)
        intensities.append(CycleIntensity(cycle.number, full, taken, round(taken / full, 4)))
    overall = None
    if intensities:
        overall = round(
            sum(c.taken_mg for c in intensities) / sum(c.planned_mg for c in intensities), 4
        )
    return DoseSummary(
        subject=plan.subject,
        planned=len(slots),
        taken=sum(1 for s in slots if s.status in TAKEN),
        missed=sum(1 for s in slots if s.status == "missed"),
        held=sum(1 for s in slots if s.status == "held"),
        cycles=tuple(intensities),
        relative_dose_intensity=overall,
    )


@dataclass(frozen=True, slots=True)
class ReportedDose:
    """A dose as the patient reported it, and whether a nurse has reviewed the report."""

    on: date
    slot: int
    taken: bool
    reviewed: bool


@dataclass(frozen=True)
class ReportCounts:
    """Doses side by side: what the patient reported and what staff verified (the dose
    records behind the plan's statuses). ``unverified`` are reports no nurse has reviewed."""

    reported_taken: int
    reported_not_taken: int
    unverified: int
    verified_taken: int
    verified_missed: int
    disagree: int
    """Doses the patient reported one way and the verified record says the other."""


def report_counts(plan: Plan, reports: Iterable[ReportedDose]) -> ReportCounts:
    """Counts over the dose slots of ``plan`` (cancelled ones left out) and the patient's
    reports of them."""
    slots = {(s.date, s.slot): s for s in plan.doses() if s.status != "cancelled"}
    reported = [r for r in reports if (r.on, r.slot) in slots]
    disagree = 0
    for report in reported:
        status = slots[(report.on, report.slot)].status
        verified = status in TAKEN or status == "missed"
        if verified and (status in TAKEN) != report.taken:
            disagree += 1
    return ReportCounts(
        reported_taken=sum(1 for r in reported if r.taken),
        reported_not_taken=sum(1 for r in reported if not r.taken),
        unverified=sum(1 for r in reported if not r.reviewed),
        verified_taken=sum(1 for s in slots.values() if s.status in TAKEN),
        verified_missed=sum(1 for s in slots.values() if s.status == "missed"),
        disagree=disagree,
    )
