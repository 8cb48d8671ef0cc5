"""The protocol's toxicity table: the scheduler proposes, the investigator confirms."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.core import History, HoldEnd, HoldStart, ToxicityReport, propose_action


def event(term, grade, *, related=True, intolerable=False):
    return ToxicityReport(
        id=1,
        term=term,
        grade=grade,
        onset=date(2026, 3, 10),
        related=related,
        intolerable=intolerable,
    )


@pytest.mark.parametrize(
    ("term", "grade", "related", "intolerable", "action", "rule", "resume_mg"),
    [
        ("fatigue", 1, True, False, "continue", "any-g1", None),
        ("fatigue", 2, True, False, "continue_may_hold", "any-g2", None),
        ("fatigue", 2, True, True, "hold_then_reduce", "any-g2-intolerable", 10),
        ("diarrhea", 3, True, False, "hold_then_reduce", "any-g3", 10),
        ("Hypertension", 3, True, False, "hold_then_reduce", "hypertension-g3", 10),
        ("proteinuria", 2, True, False, "hold_then_reduce", "proteinuria", 10),
        ("hemorrhage", 3, True, False, "discontinue", "hemorrhage-g3", None),
        ("bleeding", 4, False, False, "discontinue", "hemorrhage-g3", None),
        ("Epistaxis", 3, True, False, "discontinue", "hemorrhage-g3", None),
        ("hemoptysis", 3, False, False, "discontinue", "hemorrhage-g3", None),
        ("Intracranial hemorrhage", 4, True, False, "discontinue", "hemorrhage-g3", None),
        ("upper gastrointestinal hemorrhage", 3, True, False, "discontinue", "hemorrhage-g3", None),
        ("epistaxis", 2, True, False, "hold_then_reduce", "hemorrhage-g2", 10),
        ("neutrophil count decreased", 4, True, False, "hold_then_reduce", "lab-g4", 10),
        ("Platelet count decreased", 4, True, False, "hold_then_reduce", "lab-g4", 10),
        ("diarrhea", 4, True, False, "discontinue", "any-g4", None),
        ("diarrhea", 5, False, False, "discontinue", "death", None),
    ],
)
def test_the_toxicity_table_rows(
    anlotinib, term, grade, related, intolerable, action, rule, resume_mg
):
    proposal = propose_action(
        anlotinib, event(term, grade, related=related, intolerable=intolerable), 12
    )

    assert (proposal.action, proposal.rule_id, proposal.resume_dose_mg) == (action, rule, resume_mg)


def test_hemorrhage_grade_3_proposes_discontinuation(anlotinib):
    proposal = propose_action(anlotinib, event("hemorrhage", 3), 12)

    assert proposal.action == "discontinue"
    assert proposal.reason == "hemorrhage grade >= 3"


def test_hypertension_grade_3_proposes_hold_then_resume_one_level_lower(anlotinib):
    proposal = propose_action(anlotinib, event("hypertension", 3), 12)

    assert proposal.action == "hold_then_reduce"
    assert proposal.resume_dose_mg == 10
    assert "resume at 10 mg" in proposal.reason
    assert "blood pressure < 160/100 mmHg on treatment" in proposal.reason


def test_a_grade_4_haematology_abnormality_proposes_hold_then_reduce(anlotinib):
    proposal = propose_action(anlotinib, event("neutrophil count decreased", 4), 10)

    assert (proposal.action, proposal.resume_dose_mg) == ("hold_then_reduce", 8)


def test_a_grade_4_non_lab_event_proposes_discontinuation(anlotinib):
    proposal = propose_action(anlotinib, event("hand-foot skin reaction", 4), 12)

    assert (proposal.action, proposal.rule_id) == ("discontinue", "any-g4")


def test_a_grade_2_intolerable_event_proposes_hold_then_reduce(anlotinib):
    tolerable = propose_action(anlotinib, event("fatigue", 2), 12)
    intolerable = propose_action(anlotinib, event("fatigue", 2, intolerable=True), 12)

    assert tolerable.action == "continue_may_hold"
    assert (intolerable.action, intolerable.resume_dose_mg) == ("hold_then_reduce", 10)


def test_an_unrelated_adverse_event_matches_no_rule_and_is_left_to_the_investigator(anlotinib):
    proposal = propose_action(anlotinib, event("fatigue", 3, related=False), 12)

    assert (proposal.action, proposal.rule_id) == ("continue", None)
    assert "investigator judgement" in proposal.reason


def test_a_reduction_needed_below_8_mg_proposes_discontinuation(anlotinib):
    proposal = propose_action(anlotinib, event("hypertension", 3), 8)

    assert proposal.action == "discontinue"
    assert proposal.rule_id == "hypertension-g3"
    assert proposal.resume_dose_mg is None
    assert "below 8 mg, the lowest dose level" in proposal.reason


def test_an_adverse_event_in_the_plan_is_judged_at_the_dose_in_effect_at_its_onset(plan, day):
    history = History(
        holds=(HoldStart(id=1, on=day(2, 9), reason="hypertension"),),
        resumptions=(HoldEnd(id=1, on=day(2, 12), dose_mg=10),),
        adverse_events=(
            ToxicityReport(id=1, term="hypertension", grade=3, onset=day(2, 9)),
            ToxicityReport(id=2, term="hypertension", grade=3, onset=day(3, 4)),
        ),
    )
    assessed = plan(day(3, 4), history).adverse_events

    assert [(a.dose_mg, a.proposal.resume_dose_mg) for a in assessed] == [(12, 10), (10, 8)]
