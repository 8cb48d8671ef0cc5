"""Words for the codes the plan and the worklist carry: a nurse reads "on hold" and "hold, then
resume at a lower dose", not ``on_hold`` and ``hold_then_reduce``. The codes stay in the data
(JSON, CSV, CLI ``--json``); only the pages print these words, in the reader's language (each
entry is a catalogue message, translated by the page's ``wording``).

A code without an entry is printed with its underscores as spaces (and stays English), so a new
status is readable on the day it appears, and the table below says it better once someone
writes its words.
"""

from __future__ import annotations

from jinja2 import pass_context
from jinja2.runtime import Context

from scheduler.core.wording import N_

WORDS: dict[str, str] = {
    # doses, cycles, visits
    "planned": N_("planned"),
    "taken": N_("taken"),
    "late": N_("taken late"),
    "taken_outside_window": N_("taken outside the window"),
    "missed": N_("missed"),
    "held": N_("held"),
    "cancelled": N_("cancelled"),
    "in_progress": N_("in progress"),
    "completed": N_("completed"),
    "stopped": N_("stopped"),
    "due": N_("due"),
    "overdue": N_("overdue"),
    "done": N_("done"),
    # treatment
    "screening": N_("screening"),
    "on_treatment": N_("on treatment"),
    "on_hold": N_("on hold"),
    "discontinued": N_("discontinued"),
    "withdrawn_before_treatment": N_("withdrawn before treatment"),
    "screen_failure": N_("screen failure"),
    # proposed actions
    "continue": N_("continue"),
    "continue_may_hold": N_("continue (a hold may be considered)"),
    "hold": N_("hold"),
    "hold_then_reduce": N_("hold, then resume at a lower dose"),
    "discontinue": N_("discontinue"),
    # worklist items
    "visit_overdue": N_("visit overdue"),
    "visit_due": N_("visit due"),
    "visit_in_window": N_("visit window open"),
    "day1_check": N_("day-1 criteria"),
    "missed_doses": N_("missed doses"),
    "dose_deviation": N_("dose outside the window"),
    "new_strength": N_("new strength to dispense"),
    "proposal": N_("proposed action"),
    "unrecorded_doses": N_("doses not recorded"),
    "drug_discrepancy": N_("capsule count discrepancy"),
    "awaiting_signature": N_("awaiting signature"),
    "ae_proposal": N_("adverse event: proposed action"),
    "urine_protein_due": N_("urine protein due"),
    "home_bp": N_("home blood pressure"),
    "rebook": N_("appointment to book again"),
    # reminders
    "dose": N_("dose"),
    "visit": N_("visit"),
    "pharmacy_digest": N_("pharmacy digest"),
    "nurse_digest": N_("nurses' digest"),
    "pending": N_("pending"),
    "claimed": N_("being sent"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "expired": N_("expired (too late to send)"),
    "retrying": N_("retrying"),
    "given up": N_("given up"),
    # pharmacy preparations
    "to prepare": N_("to prepare"),
    "prepared": N_("prepared"),
    "prepared, plan changed": N_("prepared, plan changed"),
    "dispensed": N_("dispensed"),
    # verdicts and criteria
    "met": N_("met"),
    "not met": N_("not met"),
    "incomplete": N_("incomplete"),
    "inclusion": N_("inclusion"),
    "exclusion": N_("exclusion"),
    # screening log outcomes ("failed" and "screening" are above)
    "enrolled": N_("enrolled"),
    "withdrawn": N_("withdrawn"),
    # roles
    "nurse": N_("nurse"),
    "investigator": N_("investigator"),
    "pharmacist": N_("pharmacist"),
    "admin": N_("admin"),
}


def words(code: object) -> str:
    """The words for a status, action or item code (``on_hold`` -> ``on hold``)."""
    text = "" if code is None else str(code)
    return WORDS.get(text, text.replace("_", " "))


@pass_context
def page_words(context: Context, code: object) -> str:
    """``words`` in the page's language (the ``words`` filter): 暂停用药 for ``on_hold``."""
    text = "" if code is None else str(code)
    wording = context.get("wording")
    if text not in WORDS or wording is None:
        return words(code)
    return str(wording.gettext(WORDS[text]))
