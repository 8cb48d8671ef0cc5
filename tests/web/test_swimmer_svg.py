"""The swimmer plot, read back as SVG elements: bars from C1D1, dose-level colours, hold marks,
discontinuation with its reason."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from random_plans import planned_histories

from scheduler.core import (
    Anchors,
    History,
    HoldEnd,
    HoldStart,
    Plan,
    TreatmentStop,
    build_plan,
)
from scheduler.protocols import Protocol, load_protocol, shipped_protocol_files
from scheduler.web.swimmer_svg import (
    DONE_COLOUR,
    HOLD_COLOUR,
    LEVEL_COLOURS,
    STOP_COLOUR,
    swimmer_of,
    swimmer_svg,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
ANLOTINIB = load_protocol(next(p for p in shipped_protocol_files() if p.name == "nct03945799.toml"))
TODAY = date(2026, 6, 1)
NO_RECORDS = History()


def _plan(protocol: Protocol, code: str, c1d1: date, history: History = NO_RECORDS) -> Plan:
    anchors = Anchors(
        subject=code,
        c1d1=c1d1,
        surgery=c1d1 - timedelta(days=35),
        time_zone=ZoneInfo("Asia/Shanghai"),
        dose_time=time(8, 0),
    )
    return build_plan(protocol, anchors, history, TODAY)


def _reduced(protocol: Protocol) -> Plan:
    """Held from day 30 to day 40 of treatment, resumed at 10 mg."""
    c1d1 = date(2026, 3, 2)
    return _plan(
        protocol,
        "S-RED",
        c1d1,
        History(
            holds=(HoldStart(id=1, on=c1d1 + timedelta(days=29), reason="grade 3 hypertension"),),
            resumptions=(HoldEnd(id=1, on=c1d1 + timedelta(days=40), dose_mg=10),),
        ),
    )


def _stopped(protocol: Protocol) -> Plan:
    c1d1 = date(2026, 4, 1)
    stop = TreatmentStop(id=1, on=date(2026, 5, 1), reason="relapse")
    return _plan(protocol, "S-STOP", c1d1, History(discontinuation=stop))


def _groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-subject", ""): g for g in root.iterfind(".//svg:g[@data-subject]", NS)}


def test_one_bar_per_subject_starting_at_cycle_1_day_1(anlotinib):
    plans = [_reduced(anlotinib), _stopped(anlotinib), _plan(anlotinib, "S-NEW", date(2026, 5, 25))]
    root = ET.fromstring(swimmer_svg(plans, TODAY))
    groups = _groups(root)
    assert set(groups) == {"S-RED", "S-STOP", "S-NEW"}
    starts = {
        code: float(g.find("svg:rect[@class='dose-segment']", NS).get("x"))  # type: ignore[union-attr]
        for code, g in groups.items()
    }
    assert len(set(starts.values())) == 1  # every bar starts at its own C1D1, aligned at day 0
    order = [g.get("data-subject") for g in root.iterfind(".//svg:g[@data-subject]", NS)]
    assert order == ["S-RED", "S-STOP", "S-NEW"]  # longest first


def test_a_reduction_changes_the_bar_colour_from_the_resumption(anlotinib):
    root = ET.fromstring(swimmer_svg([_reduced(anlotinib)], TODAY))
    segments = root.findall(".//svg:rect[@class='dose-segment']", NS)
    assert [(s.get("data-level"), s.get("fill")) for s in segments] == [
        ("0", LEVEL_COLOURS[0]),
        ("-1", LEVEL_COLOURS[1]),
    ]
    assert segments[1].get("data-start") == "2026-04-11"
    assert float(segments[1].get("x", "0")) > float(segments[0].get("x", "0"))


def test_a_hold_is_marked_on_the_bar_with_its_reason(anlotinib):
    root = ET.fromstring(swimmer_svg([_reduced(anlotinib)], TODAY))
    (mark,) = root.findall(".//svg:rect[@class='hold']", NS)
    assert mark.get("fill") == HOLD_COLOUR and mark.get("data-start") == "2026-03-31"
    assert "grade 3 hypertension" in mark.findtext("svg:title", "", NS)


def test_discontinuation_ends_the_bar_with_a_cross_and_the_reason(anlotinib):
    swimmer = swimmer_of(_stopped(anlotinib), TODAY)
    assert (swimmer.end, swimmer.outcome, swimmer.reason) == (
        date(2026, 5, 1),
        "discontinued",
        "relapse",
    )
    group = _groups(ET.fromstring(swimmer_svg([_stopped(anlotinib)], TODAY)))["S-STOP"]
    cross = group.find("svg:path[@class='discontinued']", NS)
    assert cross is not None and cross.get("stroke") == STOP_COLOUR
    assert "relapse" in cross.findtext("svg:title", "", NS)
    assert any("relapse" in (t.text or "") for t in group.iterfind("svg:text", NS))


def test_completed_and_ongoing_subjects_are_told_apart(anlotinib):
    done = _plan(anlotinib, "S-DONE", date(2025, 9, 1))
    going = _plan(anlotinib, "S-GO", date(2026, 5, 1))
    groups = _groups(ET.fromstring(swimmer_svg([done, going], TODAY)))
    assert groups["S-DONE"].get("data-outcome") == "completed"
    circle = groups["S-DONE"].find("svg:circle[@class='completed']", NS)
    assert circle is not None and circle.get("fill") == DONE_COLOUR
    assert groups["S-GO"].find("svg:path[@class='ongoing']", NS) is not None


def test_a_subject_in_screening_has_no_bar(anlotinib):
    group = _groups(
        ET.fromstring(swimmer_svg([_plan(anlotinib, "S-NEW", date(2026, 7, 1))], TODAY))
    )
    assert group["S-NEW"].find("svg:rect", NS) is None
    assert "screening, C1D1 2026-07-01" in "".join(group["S-NEW"].itertext())


def test_the_legend_names_the_dose_levels_in_use(anlotinib):
    root = ET.fromstring(swimmer_svg([_reduced(anlotinib), _stopped(anlotinib)], TODAY))
    labels = [g.get("data-label") for g in root.iterfind(".//svg:g[@class='legend-item']", NS)]
    assert labels[:2] == ["12 mg (level 0)", "10 mg (level -1)"]
    assert {"hold", "discontinued (reason)", "completed", "ongoing"} <= set(labels)
    assert root.get("role") == "img" and root.findtext("svg:title", "", NS)


# Random histories: the picture must draw whatever the core can plan.


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planned_histories())
def test_any_plans_bar_runs_from_c1d1_in_the_dose_level_of_each_day(drawn: tuple[Plan, date]):
    """The bar's segments tile C1D1..end without gaps, each day's colour is the level of the
    dose the plan gives that day, every hold up to the end is marked, and a discontinuation
    ends the bar on its day with its reason."""
    plan, today = drawn
    swimmer = swimmer_of(plan, today)
    group = _groups(ET.fromstring(swimmer_svg([plan], today)))["P-1"]
    stop = plan.discontinuation
    if swimmer.outcome in ("screening", "stopped before treatment"):
        assert group.find("svg:rect", NS) is None
        assert (swimmer.outcome == "screening") == (stop is None or stop.on > today)
        return
    segments = swimmer.segments
    assert segments[0].start == plan.cycles[0].day1 and segments[-1].end == swimmer.end
    for a, b in itertools.pairwise(segments):
        assert b.start == a.end + timedelta(days=1) and b.dose_mg < a.dose_mg
    for slot in plan.doses():
        if slot.status in ("held", "cancelled") or not swimmer.c1d1 <= slot.date <= swimmer.end:
            continue
        (covering,) = [s for s in segments if s.start <= slot.date <= s.end]
        assert covering.dose_mg == slot.dose_mg, slot
    drawn_levels = [
        r.get("data-level") for r in group.iterfind("svg:rect[@class='dose-segment']", NS)
    ]
    assert drawn_levels == [str(s.level) for s in segments]
    held = [h for h in plan.holds if h.start <= swimmer.end]
    assert len(group.findall("svg:rect[@class='hold']", NS)) == len(held)
    stop = plan.discontinuation
    if stop is not None and stop.on <= today:
        assert (swimmer.outcome, swimmer.end) == ("discontinued", stop.on)
        cross = group.find("svg:path[@class='discontinued']", NS)
        assert cross is not None and stop.reason in cross.findtext("svg:title", "", NS)
