"""The proposed action for a graded adverse event, from the protocol's rule table.

The scheduler only proposes; a person with the investigator role confirms by recording a hold,
a resumption or a discontinuation.
"""

from __future__ import annotations

from scheduler.core.dose_levels import format_mg, next_lower_dose
from scheduler.core.inputs import ToxicityReport
from scheduler.core.layout import ProtocolLayout, layout_for
from scheduler.core.outputs import Proposal as Proposal
from scheduler.core.outputs import ProposedAction as ProposedAction
from scheduler.protocols.schema import Protocol

_MAX_PROPOSALS = 4096


def propose_action(protocol: Protocol, event: ToxicityReport, current_dose_mg: float) -> Proposal:
    """The first rule of the protocol's table that matches the event, as a proposal.

    The answer depends on the event's term, grade, relatedness and tolerability and on the
    dose; proposals are immutable, so each distinct question is answered once per protocol.
    """
    layout = layout_for(protocol)
    term = event.term.strip().casefold()
    # The dose's type is part of the key: a proposal echoes the dose back (12 or 12.0).
    key = (
        term,
        event.grade,
        event.related,
        event.intolerable,
        current_dose_mg,
        type(current_dose_mg),
    )
    proposal = layout.proposals.get(key)
    if proposal is None:
        proposal = _propose(layout, term, event, current_dose_mg)
        if len(layout.proposals) >= _MAX_PROPOSALS:
            layout.proposals.clear()
        layout.proposals[key] = proposal
    return proposal


def _propose(
    layout: ProtocolLayout, term: str, event: ToxicityReport, current_dose_mg: float
) -> Proposal:
    protocol = layout.protocol
    is_lab = term in layout.lab_terms
    for matcher in layout.rules:
        rule = matcher.rule
        if rule.related == "related" and not event.related:
            continue
        if not rule.min_grade <= event.grade <= rule.max_grade:
            continue
        if rule.lab_only and not is_lab:
            continue
        if matcher.terms is not None and term not in matcher.terms:
            continue
        if rule.intolerable is not None and rule.intolerable != event.intolerable:
            continue
        if rule.action == "hold_then_reduce":
            lower = next_lower_dose(protocol, current_dose_mg)
            if lower is None:
                return Proposal(
                    action="discontinue",
                    rule_id=rule.id,
                    reason=(
                        f"{rule.description}: a reduction below {format_mg(current_dose_mg)}, "
                        "the lowest dose level, would be needed"
                    ),
                )
            when = f" when {rule.resume_when}" if rule.resume_when else ""
            return Proposal(
                action="hold_then_reduce",
                rule_id=rule.id,
                reason=f"{rule.description}: hold; resume at {format_mg(lower)}{when}",
                resume_dose_mg=lower,
            )
        if rule.action == "hold":
            when = f" when {rule.resume_when}" if rule.resume_when else ""
            return Proposal(
                action="hold",
                rule_id=rule.id,
                reason=f"{rule.description}: hold; resume at {format_mg(current_dose_mg)}{when}",
                resume_dose_mg=current_dose_mg,
            )
        return Proposal(action=rule.action, rule_id=rule.id, reason=rule.description)
    return Proposal(
        action="continue",
        rule_id=None,
        reason="no rule of the protocol applies; investigator judgement",
    )
