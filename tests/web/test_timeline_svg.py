"""The subject timeline picture, read back as SVG elements (not as text)."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from random_plans import planned_histories

from scheduler.core import (
    Anchors,
    DoseOutcome,
    History,
    HoldEnd,
    HoldStart,
    Plan,
    TreatmentStop,
    build_plan,
)
from scheduler.protocols import Protocol, load_protocol, shipped_protocol_files
from scheduler.web.timeline_svg import (
    DOSE_COLOURS,
    DOSE_GLYPHS,
    DOSE_OUTLINES,
    HOLD_FILL,
    REDUCTION_COLOUR,
    timeline_svg,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
ANLOTINIB = load_protocol(next(p for p in shipped_protocol_files() if p.name == "nct03945799.toml"))
C1D1 = date(2026, 3, 2)


def _anchors(code: str = "S-001") -> Anchors:
    return Anchors(
        subject=code,
        c1d1=C1D1,
        surgery=C1D1 - timedelta(days=35),
        time_zone=ZoneInfo("Asia/Shanghai"),
        dose_time=time(8, 0),
    )


def _svg(plan: Plan, today: date) -> ET.Element:
    return ET.fromstring(timeline_svg(plan, today))


def _cells(root: ET.Element) -> dict[str, ET.Element]:
    return {r.get("data-key", ""): r for r in root.iterfind(".//svg:rect[@data-key]", NS)}


def _cycle_groups(root: ET.Element) -> dict[int, ET.Element]:
    return {int(g.get("data-cycle", "0")): g for g in root.iterfind(".//svg:g[@data-cycle]", NS)}


def _held_and_resumed_at_10_mg() -> History:
    """Grade 3 hypertension on C1D10: held until day 26 (covers C2D1), resumed at 10 mg."""
    return History(
        doses=tuple(
            DoseOutcome(id=i, on=C1D1 + timedelta(days=i), taken=True) for i in range(0, 9)
        ),
        holds=(HoldStart(id=1, on=C1D1 + timedelta(days=9), reason="grade 3 hypertension"),),
        resumptions=(HoldEnd(id=1, on=C1D1 + timedelta(days=25), dose_mg=10),),
    )


def test_one_row_per_cycle_with_every_dosing_day_as_a_cell(anlotinib: Protocol) -> None:
    plan = build_plan(anlotinib, _anchors(), History(), C1D1)
    root = _svg(plan, C1D1)
    assert sorted(_cycle_groups(root)) == list(range(1, 9))
    cells = _cells(root)
    assert len(cells) == 8 * 14
    assert cells["C1D1"].get("fill") == DOSE_COLOURS["planned"]


def test_taken_and_missed_doses_have_their_colours(anlotinib: Protocol) -> None:
    history = History(
        doses=(
            DoseOutcome(id=1, on=C1D1, taken=True, taken_at=time(8, 10)),
            DoseOutcome(id=2, on=C1D1 + timedelta(days=1), taken=False),
            DoseOutcome(id=3, on=C1D1 + timedelta(days=2), taken=True, taken_at=time(15, 0)),
        )
    )
    cells = _cells(_svg(build_plan(anlotinib, _anchors(), history, C1D1 + timedelta(3)), C1D1))
    assert cells["C1D1"].get("fill") == DOSE_COLOURS["taken"]
    assert cells["C1D2"].get("fill") == DOSE_COLOURS["missed"]
    assert cells["C1D3"].get("fill") == DOSE_COLOURS["late"]
    title = cells["C1D1"].find("svg:title", NS)
    assert title is not None and "taken at 08:10" in (title.text or "")


def test_a_held_day_is_drawn_in_the_held_colour_over_a_hold_band(anlotinib: Protocol) -> None:
    today = C1D1 + timedelta(days=30)
    root = _svg(build_plan(anlotinib, _anchors(), _held_and_resumed_at_10_mg(), today), today)
    cells = _cells(root)
    assert cells["C1D10"].get("fill") == DOSE_COLOURS["held"]
    assert cells["C1D10"].get("data-status") == "held"
    bands = root.findall(".//svg:rect[@class='hold']", NS)
    assert bands and all(b.get("fill") == HOLD_FILL for b in bands)
    assert "grade 3 hypertension" in (bands[0].findtext("svg:title", "", NS))


def test_a_delayed_cycle_row_starts_later(anlotinib: Protocol) -> None:
    today = C1D1 + timedelta(days=30)
    plan = build_plan(anlotinib, _anchors(), _held_and_resumed_at_10_mg(), today)
    assert plan.cycles[1].delay_days == 4
    cells = _cells(_svg(plan, today))
    c1_start = float(cells["C1D1"].get("x", "0"))
    c2_start = float(cells["C2D1"].get("x", "0"))
    c3_start = float(cells["C3D1"].get("x", "0"))
    assert c2_start > c1_start
    assert c3_start == c1_start  # the delay moved cycle 3 with it, not within its row


def test_a_dose_reduction_is_marked_where_dosing_resumes(anlotinib: Protocol) -> None:
    today = C1D1 + timedelta(days=30)
    root = _svg(build_plan(anlotinib, _anchors(), _held_and_resumed_at_10_mg(), today), today)
    marks = root.findall(".//svg:path[@class='reduction']", NS)
    assert [m.get("data-date") for m in marks] == [(C1D1 + timedelta(days=25)).isoformat()]
    assert marks[0].get("fill") == REDUCTION_COLOUR
    assert "from 12 mg to 10 mg" in marks[0].findtext("svg:title", "", NS)


def test_visits_are_markers_with_their_windows(anlotinib: Protocol) -> None:
    plan = build_plan(anlotinib, _anchors(), History(), C1D1)
    root = _svg(plan, C1D1)
    codes = {m.get("data-code") for m in root.iterfind(".//svg:path[@data-code]", NS)}
    assert codes == {v.code for v in plan.visits}
    windows = {w.get("data-code"): w for w in root.iterfind(".//svg:line[@data-code]", NS)}
    wide = next(v for v in plan.visits if v.window_end > v.window_start)
    line = windows[wide.code]
    assert float(line.get("x2", "0")) > float(line.get("x1", "0"))


def test_after_discontinuation_remaining_doses_are_cancelled(anlotinib: Protocol) -> None:
    stop = C1D1 + timedelta(days=5)
    history = History(discontinuation=TreatmentStop(id=1, on=stop, reason="relapse"))
    cells = _cells(_svg(build_plan(anlotinib, _anchors(), history, stop), stop))
    assert cells["C2D1"].get("fill") == DOSE_COLOURS["cancelled"]


def test_twice_daily_slots_share_the_day_cell(capecitabine: Protocol) -> None:
    cells = _cells(_svg(build_plan(capecitabine, _anchors(), History(), C1D1), C1D1))
    first, second = cells["C1D1S1"], cells["C1D1S2"]
    assert first.get("x") == second.get("x")
    assert float(second.get("y", "0")) > float(first.get("y", "0"))


def test_the_picture_is_titled_and_has_a_legend(anlotinib: Protocol) -> None:
    root = _svg(build_plan(anlotinib, _anchors("S-042"), History(), C1D1), C1D1)
    assert root.get("role") == "img"
    assert "S-042" in root.findtext("svg:title", "", NS)
    labels = {i.get("data-label") for i in root.iterfind(".//svg:g[@class='legend-item']", NS)}
    assert set(DOSE_COLOURS) <= labels and "on hold" in labels
    assert root.find(".//svg:line[@class='today']", NS) is not None


# Random histories: the picture must draw whatever the core can plan.


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planned_histories())
def test_every_slot_visit_hold_and_reduction_of_any_plan_is_drawn(drawn: tuple[Plan, date]):
    plan, today = drawn
    root = _svg(plan, today)
    cells = _cells(root)
    slots = list(plan.doses())
    assert len(cells) == len(slots)
    for slot in slots:
        assert cells[slot.key].get("data-status") == slot.status
        assert cells[slot.key].get("fill") == DOSE_COLOURS[slot.status]
    markers = [m.get("data-code") for m in root.iterfind(".//svg:path[@data-code]", NS)]
    windows = [w.get("data-code") for w in root.iterfind(".//svg:line[@data-code]", NS)]
    assert sorted(markers) == sorted(windows) == sorted(v.code for v in plan.visits)
    bands = " ".join(
        b.findtext("svg:title", "", NS) for b in root.iterfind(".//svg:rect[@class='hold']", NS)
    )
    for hold in plan.holds:
        # A hold after the last cycle, or one ended the day it began, holds nothing.
        if hold.start <= plan.cycles[-1].end and (hold.end is None or hold.end > hold.start):
            assert f"On hold from {hold.start}" in bands
    drops = [b for a, b in itertools.pairwise(slots) if b.dose_mg < a.dose_mg]
    marks = root.findall(".//svg:path[@class='reduction']", NS)
    assert [m.get("data-date") for m in marks] == [s.date.isoformat() for s in drops]


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_taken_missed_and_held_differ_in_shape_not_only_in_colour(anlotinib: Protocol) -> None:
    """For a colour-blind nurse, and on a greyscale printout: each status has its own glyph."""
    history = History(
        doses=(
            DoseOutcome(id=1, on=C1D1, taken=True, taken_at=time(8, 10)),
            DoseOutcome(id=2, on=C1D1 + timedelta(days=1), taken=False),
        ),
        holds=(HoldStart(id=1, on=C1D1 + timedelta(days=2), reason="grade 3 diarrhoea"),),
    )
    today = C1D1 + timedelta(days=3)
    root = _svg(build_plan(anlotinib, _anchors(), history, today), today)
    shapes = {
        status: next(iter(root.iterfind(f".//svg:path[@class='glyph {status}']", NS)))
        for status in ("taken", "missed", "held")
    }
    commands = {s: "".join(c for c in (p.get("d") or "") if c.isalpha()) for s, p in shapes.items()}
    assert len(set(commands.values())) == 3, commands  # three different pen paths


def test_marks_meet_3_to_1_against_the_background_and_glyphs_against_their_fill() -> None:
    for status, fill in DOSE_COLOURS.items():
        edge = DOSE_OUTLINES.get(status, fill)
        assert _contrast(edge, "#ffffff") >= 3, status
        if status in DOSE_GLYPHS and status not in DOSE_OUTLINES:
            assert _contrast("#ffffff", fill) >= 3, status
    assert _contrast(REDUCTION_COLOUR, "#ffffff") >= 3
