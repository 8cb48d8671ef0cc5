"""The protocol's hold and cycle-delay limits, when a change lets one pass.

Beyond a limit the plan proposes discontinuation, but only while the hold is open or the cycle
still waits: the change that ends the wait (a resumption, day-1 criteria found met) would make
the proposal vanish without anyone having decided against it. So that change needs the
investigator's reason to continue, and the override goes into the audit trail with it.
"""

from __future__ import annotations

from scheduler.errors import InputError
from scheduler.kernel.unit import Unit


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
