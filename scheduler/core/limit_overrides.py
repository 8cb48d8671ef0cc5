"""What a change lets pass beyond the protocol's hold and delay limits.

Beyond a limit the plan proposes discontinuation, but only while the hold is open or the cycle
still waits: the change that ends the wait (a resumption, day-1 criteria found met) would make
the proposal vanish without anyone having decided against it. So the service asks for the
investigator's reason to continue whenever this finds anything, and audits the override.
"""

from __future__ import annotations

from scheduler.core.limits import delay_limit_passed, hold_limit_passed
from scheduler.core.plan import Plan


def limits_passed(before: Plan, after: Plan) -> list[str]:
    """What the change from ``before`` to ``after`` lets pass: each hold it ends that lasted
    beyond the hold limit, each cycle it lets start later than the delay limit allows."""
    limits = after.protocol.limits
    passed: list[str] = []
    was_open = {period.hold_id for period in before.holds if period.is_open}
    for period in after.holds:
        if period.hold_id in was_open and period.resumption_id is not None:
            days = period.length_days(after.today)
            if hold_limit_passed(days, max_hold_days=limits.max_hold_days):
                passed.append(
                    f"the hold from {period.start} lasted {days} days, "
                    f"{days - limits.max_hold_days} over the {limits.max_hold_days}-day limit"
                )
    for old, new in zip(before.cycles, after.cycles, strict=True):
        if (
            old.tentative
            and not new.tentative
            and delay_limit_passed(new.delay_days, max_delay_days=limits.max_delay_days)
        ):
            passed.append(
                f"cycle {new.number} starts {new.delay_days} days late, "
                f"{new.delay_days - limits.max_delay_days} over the "
                f"{limits.max_delay_days}-day delay limit"
            )
    return passed
