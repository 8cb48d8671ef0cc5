"""The printed handout never tells a patient to take a dose they must not take.

The demo trial, placed relative to 2026-03-02 (noon in Shanghai): DEMO-002 is on cycle 2 day 5,
DEMO-004 has been on hold for three days, DEMO-005 was discontinued for relapse. A subject on
hold is told the treatment is paused and whom to call; a discontinued subject gets no dosing
instructions, only the visits still to come; a subject on treatment gets a diary for the rest of
the current cycle and the whole next one. Every handout names the study and the hospital. On
SQLite and PostgreSQL."""

from __future__ import annotations

import re

from scheduler.kernel.subject_state import subject_state

PAUSED = (
    "Your study treatment is paused. Do not take capsules until the study team tells you to "
    "restart."
)


def _handout(staff_client, code: str) -> str:
    page = staff_client("nurse").get(f"/subjects/{code}/handout")
    assert page.status_code == 200
    return page.text


def _plan(units, code):
    with units() as unit:
        return subject_state(unit.session, code, unit.now).plan()


def _diary_rows(html: str) -> list[str]:
    return re.findall(r"<tr><td>(Day \d+ of \d+)</td>", html)


def test_a_subject_on_hold_is_told_the_treatment_is_paused_and_whom_to_call(staff_client, units):
    assert _plan(units, "DEMO-004").status == "on_hold"
    html = _handout(staff_client, "DEMO-004")

    assert PAUSED in html
    assert '<span class="phone">+86 571 0000 0000</span>' in html
    assert "Take your dose" not in html
    assert _diary_rows(html) == [] and '<td class="box">' not in html


def test_a_discontinued_subject_gets_only_the_remaining_visits(staff_client, units):
    plan = _plan(units, "DEMO-005")
    assert plan.status == "discontinued"
    html = _handout(staff_client, "DEMO-005")

    assert "Take your dose" not in html and "Tick the box" not in html
    assert _diary_rows(html) == [] and PAUSED not in html
    remaining = [v for v in plan.visits if v.status in ("planned", "due")]
    assert remaining
    for visit in remaining[:3]:
        assert f"<td>{visit.name}</td><td>{visit.target}</td>" in html


def test_a_subject_on_c2d5_gets_the_rest_of_cycle_2_and_all_of_cycle_3(staff_client, units):
    plan = _plan(units, "DEMO-002")
    c2, c3 = plan.cycles[1], plan.cycles[2]
    assert (plan.today - c2.day1).days + 1 == 5
    html = _handout(staff_client, "DEMO-002")

    assert f"Cycle 2: {c2.day1} to {c2.end}" in html
    assert f"Cycle 3: {c3.day1} to {c3.end}" in html
    assert _diary_rows(html) == [f"Day {n} of 14" for n in range(5, 15)] + [
        f"Day {n} of 14" for n in range(1, 15)
    ]
    assert "Take your dose at 09:00" in html
    assert not re.search(r">D\d+<", html)  # no staff codes


def test_every_handout_names_the_study_and_the_hospital(staff_client, units):
    for code in ("DEMO-002", "DEMO-004", "DEMO-005"):
        html = _handout(staff_client, code)
        assert (
            "Study: Anlotinib in HCC patients at high risk of post-surgery recurrence (NCT03945799)"
        ) in html
        with units() as unit:
            site = subject_state(unit.session, code, unit.now).site
        assert f"Hospital: {site.name}" in html
