"""NCT03945799 version 4: the sourced toxicity rules and visit plan, read like the protocol.
Each test names the rule (docs/labs.md lists them with their protocol keys)."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.core import History, ToxicityReport, TreatmentStop, propose_action
from scheduler.core.lab_grades import Measured
from scheduler.core.lab_rules import (
    home_bp_alert,
    hys_law_pattern,
    quantified_protein_due,
    reports_adverse_event,
)
from scheduler.protocols.grading_table import ctcae_v5


def event(term, grade, *, related=True):
    return ToxicityReport(id=1, term=term, grade=grade, onset=date(2026, 3, 10), related=related)


def _proposal(protocol, term, grade, dose=12, related=True):
    p = propose_action(protocol, event(term, grade, related=related), dose)
    return p.action, p.rule_id, p.resume_dose_mg


def test_shipped_protocol_is_version_5_with_the_dose_before_breakfast(anlotinib):
    assert anlotinib.version == "5"
    assert anlotinib.schedule.default_dose_time.strftime("%H:%M") == "07:00"


@pytest.mark.parametrize("term", ["epistaxis", "upper gastrointestinal hemorrhage", "hematuria"])
def test_hemorrhage_grade_2_holds_and_resumes_one_level_lower(anlotinib, term):
    action, rule, resume = _proposal(anlotinib, term, 2, related=False)
    assert (action, rule, resume) == ("hold_then_reduce", "hemorrhage-g2", 10)
    reason = propose_action(anlotinib, event(term, 2), 12).reason
    assert "within 14 days; otherwise discontinue" in reason


def test_hemorrhage_grade_2_held_past_14_days_proposes_discontinuation(plan, anlotinib):
    from scheduler.core import HoldStart

    history = History(
        adverse_events=(event("epistaxis", 2),),
        holds=(HoldStart(id=1, on=date(2026, 3, 10), reason="grade 2 epistaxis"),),
    )
    late = plan(date(2026, 3, 26), history)
    assert any(p.action == "discontinue" for p in late.proposals)
    assert anlotinib.limits.max_hold_days == 14


def test_hemorrhage_grade_3_or_more_discontinues(anlotinib):
    assert _proposal(anlotinib, "epistaxis", 3)[:2] == ("discontinue", "hemorrhage-g3")


@pytest.mark.parametrize(
    "term",
    [
        "alanine aminotransferase increased",
        "aspartate aminotransferase increased",
        "blood bilirubin increased",
    ],
)
def test_liver_grade_3_holds_and_grade_4_discontinues_with_no_lab_exception(anlotinib, term):
    assert _proposal(anlotinib, term, 3) == ("hold_then_reduce", "liver-g3", 10)
    assert _proposal(anlotinib, term, 4)[:2] == ("discontinue", "liver-g4")
    assert _proposal(anlotinib, term, 4, related=False)[:2] == ("discontinue", "liver-g4")


def test_haematology_grade_4_keeps_its_hold_within_the_limit(anlotinib):
    assert _proposal(anlotinib, "platelet count decreased", 4) == ("hold_then_reduce", "lab-g4", 10)


def test_hys_law_pattern_discontinues(anlotinib):
    rule = anlotinib.labs.hys_law
    alt = Measured(value=130.0, uln=40.0)  # 3.25 x ULN
    bilirubin = Measured(value=2.5, uln=1.2)  # 2.08 x ULN
    assert hys_law_pattern(rule, [alt], bilirubin)
    assert not hys_law_pattern(rule, [Measured(value=120.0, uln=40.0)], bilirubin)  # 3.0 x
    assert not hys_law_pattern(rule, [alt], Measured(value=2.4, uln=1.2))  # 2.0 x
    assert _proposal(anlotinib, rule.term, 2)[:2] == ("discontinue", "hys-law")


def test_a_dipstick_of_2_plus_is_no_hold_but_orders_a_24h_urine_protein(anlotinib):
    labs = anlotinib.labs
    assert not reports_adverse_event(labs, "UPRO_DIP", 2, None)
    rule = labs.urine_protein_followup
    dip = [(date(2026, 3, 20), 2.0)]
    assert quantified_protein_due(rule, dip, []) == date(2026, 3, 20)
    assert quantified_protein_due(rule, dip, [date(2026, 3, 21)]) is None
    assert quantified_protein_due(rule, [(date(2026, 3, 20), 1.0)], []) is None


def test_24h_urine_protein_over_1g_holds_and_nephrotic_syndrome_discontinues(anlotinib):
    table = ctcae_v5()
    from scheduler.core.lab_grades import grade

    assert grade(table.tests["UPRO_24H"], Measured(value=1.2, uln=0.15)) == 2
    assert reports_adverse_event(anlotinib.labs, "UPRO_24H", 2, None)
    assert _proposal(anlotinib, "proteinuria", 2) == ("hold_then_reduce", "proteinuria", 10)
    assert _proposal(anlotinib, "nephrotic syndrome", 3)[:2] == (
        "discontinue",
        "nephrotic-syndrome",
    )


def test_qtc_grade_3_holds_until_480_ms_or_baseline(anlotinib):
    action, rule, resume = _proposal(
        anlotinib, "electrocardiogram qt corrected interval prolonged", 3
    )
    assert (action, rule, resume) == ("hold_then_reduce", "qtc-g3", 10)
    reason = propose_action(
        anlotinib, event("electrocardiogram qt corrected interval prolonged", 3), 12
    ).reason
    assert "QTc <= 480 ms or back to baseline" in reason
    assert _proposal(anlotinib, "electrocardiogram qt corrected interval prolonged", 4)[:2] == (
        "discontinue",
        "any-g4",
    )


@pytest.mark.parametrize("grade", [1, 2])
def test_raised_tsh_or_hypothyroidism_up_to_grade_2_proposes_replacement_no_dose_change(
    anlotinib, grade
):
    proposal = propose_action(anlotinib, event("hypothyroidism", grade), 12)
    assert (proposal.action, proposal.rule_id) == ("continue", "thyroid")
    assert "thyroid replacement; no dose change" in proposal.reason
    assert reports_adverse_event(anlotinib.labs, "TSH", 1, None)


def test_tsh_and_ft4_are_due_every_2_cycles(anlotinib, plan):
    visits = plan(date(2026, 3, 2)).visits
    with_thyroid = [v.code for v in visits if "TSH/FT4" in v.procedures]
    assert with_thyroid == ["SCR", "C2D1", "C4D1", "C6D1", "C8D1"]


def test_hypertension_resume_threshold_is_a_parameter(anlotinib):
    limit = anlotinib.labs.hypertension_resume_below
    assert (limit.systolic, limit.diastolic) == (160, 100)
    assert _proposal(anlotinib, "hypertension", 2)[:2] == ("continue", "hypertension-g2")


def test_terms_without_grade_4_never_reach_the_grade_4_branch(anlotinib):
    """CTCAE v5.0 has no grade 4 for these terms: the grading table caps them, so a typed
    grade 4 is refused (tests/labs/test_lab_adverse_events.py) and no result grades above 3."""
    table = ctcae_v5()
    for term in ("palmar-plantar erythrodysesthesia syndrome", "proteinuria"):
        assert table.term_max_grade(term) == 3
        assert _proposal(anlotinib, term, 3)[0] == "hold_then_reduce"
    for code in ("UPRO_DIP", "UPRO_24H", "UPCR"):
        assert table.tests[code].max_grade < 4


def test_visit_plan_has_baseline_imaging_and_afp_28_to_1_days_before_c1d1(plan):
    base = plan(date(2026, 2, 1)).visit("BASE")
    assert (base.window_start, base.window_end) == (date(2026, 2, 2), date(2026, 3, 1))
    assert set(base.procedures) == {"imaging", "AFP"}


def test_the_12_month_survival_contact_is_kept_after_recurrence(plan):
    stopped = History(
        discontinuation=TreatmentStop(id=1, on=date(2026, 4, 20), reason="relapse"),
    )
    survival = plan(date(2026, 5, 1), stopped).visit("SURV12M")
    assert survival.status != "cancelled"
    assert survival.target == date(2027, 1, 20)


def test_home_blood_pressure_of_160_100_on_cycles_1_and_2_alerts(anlotinib):
    rule = anlotinib.labs.home_bp
    assert home_bp_alert(rule, 1, 160, 90)
    assert home_bp_alert(rule, 2, 150, 100)
    assert not home_bp_alert(rule, 2, 159, 99)
    assert not home_bp_alert(rule, 3, 170, 105)
