"""The protocol's limits on holds, delays, late doses and dose changes, one rule a function.

Each rule reads one setting of the protocol file, passed in as a plain value under the
setting's own name, so a service holding only a stored copy of the setting (the worklist keeps
``max_hold_days`` per subject) applies the same rule as the plan does.
"""

from __future__ import annotations

from scheduler.core.outputs import DoseStatus

_DOSE_TOLERANCE_MG = 1e-9
"""Dose levels are read from TOML as floats; two doses this close are the same level."""


def hold_limit_passed(days_held: int, *, max_hold_days: int) -> bool:
    """``[limits] max_hold_days``: a hold longer than this calls for discontinuation, and
    resuming after it needs the investigator's reason to continue."""
    return days_held > max_hold_days


def delay_limit_passed(delay_days: int, *, max_delay_days: int) -> bool:
    """``[limits] max_delay_days``: a cycle starting more days than this after its nominal day
    1 calls for discontinuation, and starting it needs the investigator's reason."""
    return delay_days > max_delay_days


def lateness(minutes_late: int, *, on_time_minutes: int, late_dose_hours: int) -> DoseStatus:
    """``[limits] late_dose_hours`` (and ``on_time_minutes``): a dose taken within the on-time
    window is taken, one taken later but within the late-dose limit is late, and one taken
    later than that is taken outside the window: a protocol deviation, but the capsule was
    swallowed, so it still counts as taken. Only a dose not taken is missed."""
    if minutes_late <= on_time_minutes:
        return "taken"
    if minutes_late <= late_dose_hours * 60:
        return "late"
    return "taken_outside_window"


def no_re_escalation(current_mg: float, resume_mg: float) -> bool:
    """``dose_levels`` (listed from the starting dose down): whether resuming at ``resume_mg``
    keeps to the rule that a dose, once reduced, is never raised again."""
    return resume_mg <= current_mg + _DOSE_TOLERANCE_MG
