"""The protocol's hold and cycle-delay limits, when a change lets one pass.

Beyond a limit the plan proposes discontinuation, but only while the hold is open or the cycle
still waits: the change that ends the wait (a resumption, day-1 criteria found met) would make
the proposal vanish without anyone having decided against it. So that change needs the
investigator's reason to continue, and the override goes into the audit trail with it.
"""

from __future__ import annotations

from scheduler import core
from scheduler.errors import InputError
from scheduler.services.unit import Unit


def limits_passed(before: core.Plan, after: core.Plan) -> list[str]:
    """What the change from ``before`` to ``after`` lets pass: each hold it ends that lasted
    beyond the hold limit, each cycle it lets start later than the delay limit allows."""
    limits = after.protocol.limits
    passed: list[str] = []
    was_open = {period.hold_id for period in before.holds if period.is_open}
    for period in after.holds:
        if period.hold_id in was_open and period.resumption_id is not None:
            days = period.length_days(after.today)
            if days > limits.max_hold_days:
                passed.append(
                    f"the hold from {period.start} lasted {days} days, "
                    f"{days - limits.max_hold_days} over the {limits.max_hold_days}-day limit"
                )
    for old, new in zip(before.cycles, after.cycles, strict=True):
        if old.tentative and not new.tentative and new.delay_days > limits.max_delay_days:
            passed.append(
                f"cycle {new.number} starts {new.delay_days} days late, "
                f"{new.delay_days - limits.max_delay_days} over the "
                f"{limits.max_delay_days}-day delay limit"
            )
    return passed


def require_reason(passed: list[str], reason: str) -> None:
    if passed and not reason:
        raise InputError(
            "reason",
            f"{'; '.join(passed)}: give the investigator's reason to continue treatment",
        )


def audit_override(
    unit: Unit,
    passed: list[str],
    reason: str,
    *,
    subject_id: int | None,
    entity: str,
    entity_id: int | None,
) -> None:
    """Keep the decision to continue beyond a limit as an audit entry of its own, so that a
    search of the trail for overrides finds every one."""
    if passed:
        unit.audit(
            "treatment.limit_override",
            entity=entity,
            entity_id=entity_id,
            subject_id=subject_id,
            new={"limits_passed": passed},
            reason=reason,
        )
