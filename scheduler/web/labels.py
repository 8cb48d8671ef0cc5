"""Words for the codes the plan and the worklist carry: a nurse reads "on hold" and "hold, then
resume at a lower dose", not ``on_hold`` and ``hold_then_reduce``. The codes stay in the data
(JSON, CSV, CLI ``--json``); only the pages print these words.

A code without an entry is printed with its underscores as spaces, so a new status is readable
on the day it appears, and the table below says it better once someone writes its words.
"""

from __future__ import annotations

WORDS: dict[str, str] = {
    # doses
    "late": "taken late",
    "taken_outside_window": "taken outside the window",
    # proposed actions
    "continue_may_hold": "continue (a hold may be considered)",
    "hold_then_reduce": "hold, then resume at a lower dose",
    # worklist items
    "visit_in_window": "visit window open",
    "day1_check": "day-1 criteria",
    "dose_deviation": "dose outside the window",
    "new_strength": "new strength to dispense",
    "proposal": "proposed action",
    "unrecorded_doses": "doses not recorded",
    "drug_discrepancy": "capsule count discrepancy",
    "rebook": "appointment to book again",
    # reminders
    "claimed": "being sent",
    "expired": "expired (too late to send)",
    "nurse_digest": "nurses' digest",
}


def words(code: object) -> str:
    """The words for a status, action or item code (``on_hold`` -> ``on hold``)."""
    text = "" if code is None else str(code)
    return WORDS.get(text, text.replace("_", " "))
