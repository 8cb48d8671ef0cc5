"""A subject's plan as one server-rendered SVG picture: what a nurse reads at a glance.

One row per cycle. The x axis of a row starts at the cycle's *nominal* day 1 (where it would
have started without holds), so a delayed cycle visibly starts later, behind a hold band. Each
dosing day is a cell coloured by its status; visits are diamonds on the row that holds their
target, with their window as a bar. Visits outside the cycles (screening, follow-up) get their
own rows, scaled to fit. Every mark carries a ``<title>`` so screen readers and hovering say
what it is, in the reader's language (``words``; English when none is given). Built with
``xml.etree`` so the output is always well-formed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.core import Plan
from scheduler.core.cycles import CyclePlan
from scheduler.core.dosing_days import DoseSlot
from scheduler.core.holds import HoldPeriod
from scheduler.core.visits import VisitPlan
from scheduler.core.wording import N_, SOURCE, Wording
from scheduler.web.labels import WORDS

DOSE_COLOURS: dict[str, str] = {
    "taken": "#2e7d32",
    "late": "#8a5a00",
    "taken_outside_window": "#c43e00",
    "missed": "#c62828",
    "held": "#6a1b9a",
    "planned": "#e3f2fd",
    "cancelled": "#eeeeee",
}
"""Dose status -> fill. Never the only sign: each recorded or held status also has its own
white glyph (``DOSE_GLYPHS``), and the two statuses drawn pale (planned, cancelled) have a dark
outline (``DOSE_OUTLINES``). Every solid fill and outline is at least 3:1 against the white
background, and the white glyphs at least 3:1 against their fill (WCAG 1.4.11)."""
DOSE_OUTLINES: dict[str, str] = {"planned": "#1565c0", "cancelled": "#616161"}
DOSE_GLYPHS: dict[str, str] = {
    "taken": "M{l},{m} L{c},{b} L{r},{t}",  # a tick
    "late": "M{c},{t} L{c},{m} L{r},{m}",  # clock hands
    "taken_outside_window": "M{c},{t} L{c},{m} M{c},{b} L{c},{b}",  # an exclamation mark
    "missed": "M{l},{t} L{r},{b} M{r},{t} L{l},{b}",  # a cross
    "held": "M{l},{m} L{r},{m}",  # a bar: paused
    "cancelled": "M{l},{b} L{r},{t}",  # struck through
}
"""Dose status -> the glyph drawn over its cell, so that taken, missed and held differ in
shape as well as in colour (for the colour-blind, and on a greyscale printout)."""
_LEGEND_WORDS = {
    "taken_outside_window": N_("taken too late"),
    "on hold": N_("on hold"),
    "dose reduced": N_("dose reduced"),
    "visit done": N_("visit done"),
    "visit due": N_("visit due"),
    "visit planned": N_("visit planned"),
    "visit overdue": N_("visit overdue"),
    "visit cancelled": N_("visit cancelled"),
}
"""Legend text for a status whose name would not fit a legend column."""

HOLD_FILL = "#e1bee7"
VISIT_COLOURS: dict[str, str] = {
    "done": "#2e7d32",
    "due": "#1565c0",
    "planned": "#ffffff",
    "overdue": "#c62828",
    "cancelled": "#bdbdbd",
}
REDUCTION_COLOUR = "#e65100"
TODAY_COLOUR = "#d32f2f"

DAY_W = 14
ROW_H = 34
CELL_H = 14
LABEL_W = 120
TOP = 28
LEGEND_COLUMNS = 4
LEGEND_ITEM_W = 110
LEGEND_H = 90
MIN_SPAN_DAYS = 21
_DAY = timedelta(days=1)
BEFORE = N_("Before C1")
AFTER = N_("After treatment")
DOSE_TITLES = {
    (False, False): N_("{key} {date}: {status}, {dose}"),
    (True, False): N_("{key} {date}: {status}, {dose}, taken at {time}"),
    (False, True): N_("{key} {date}: {status}, {dose} (tentative: depends on when the hold ends)"),
    (True, True): N_(
        "{key} {date}: {status}, {dose}, taken at {time} (tentative: depends on when the hold ends)"
    ),
}
"""A dose cell's title, by (taken at a time, tentative): one message each, never joined."""
_SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True, slots=True)
class _Row:
    label: str
    start: date
    end: date
    y: int
    scale: float
    """Pixels per day: ``DAY_W`` on cycle rows, less on long follow-up rows so they fit."""

    def x(self, day: date) -> float:
        return LABEL_W + (day - self.start).days * self.scale

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


def _el(parent: ET.Element, tag: str, title: str | None = None, **attrs: object) -> ET.Element:
    element = ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): _fmt(v) for k, v in attrs.items()}
    )
    if title is not None:
        ET.SubElement(element, "title").text = title
    return element


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _mg(value: float) -> str:
    return f"{value:g} mg"


def _cycle_rows(cycles: Sequence[CyclePlan], first_y: int) -> list[_Row]:
    return [
        _Row(f"C{c.number}", c.nominal_day1, c.end, first_y + i * ROW_H, DAY_W)
        for i, c in enumerate(cycles)
    ]


def _extra_row(label: str, visits: Sequence[VisitPlan], y: int, width_days: int) -> _Row:
    start = min(v.window_start for v in visits)
    end = max(v.window_end for v in visits)
    span = (end - start).days + 1
    return _Row(label, start, end, y, min(DAY_W, DAY_W * width_days / span))


def _dose_cells(
    group: ET.Element,
    row: _Row,
    cycle: CyclePlan,
    per_day: int,
    previous_mg: float | None,
    words: Wording,
) -> float | None:
    """Draws the cycle's dose slots; returns the last slot's dose, to spot the next reduction."""
    slot_h = CELL_H / per_day
    for slot in cycle.doses:
        x = row.x(slot.date) + 1
        y = row.y + (ROW_H - CELL_H) / 2 + (slot.slot - 1) * slot_h
        _el(
            group,
            "rect",
            _dose_title(slot, words),
            x=x,
            y=y,
            width=DAY_W - 2,
            height=slot_h - (1 if per_day > 1 else 0),
            fill=DOSE_COLOURS[slot.status],
            fill_opacity=0.45 if slot.tentative else 1,
            stroke=DOSE_OUTLINES.get(slot.status, DOSE_COLOURS[slot.status]),
            class_=f"dose {slot.status}",
            data_key=slot.key,
            data_status=slot.status,
        )
        _glyph(group, slot.status, x, y, DAY_W - 2, slot_h)
        if previous_mg is not None and slot.dose_mg < previous_mg:
            _reduction_mark(group, row, slot.date, previous_mg, slot.dose_mg, words)
        previous_mg = slot.dose_mg
    return previous_mg


def _glyph(group: ET.Element, status: str, x: float, y: float, w: float, h: float) -> None:
    shape = DOSE_GLYPHS.get(status)
    if shape is None:
        return
    pad = min(w, h) * 0.22
    d = shape.format(
        l=round(x + pad, 1),
        r=round(x + w - pad, 1),
        c=round(x + w / 2, 1),
        t=round(y + pad, 1),
        b=round(y + h - pad, 1),
        m=round(y + h / 2, 1),
    )
    colour = "#ffffff" if status != "cancelled" else DOSE_OUTLINES["cancelled"]
    _el(
        group,
        "path",
        d=d,
        fill="none",
        stroke=colour,
        stroke_width=1.6,
        stroke_linecap="round",
        class_=f"glyph {status}",
        aria_hidden="true",
    )


def _status(words: Wording, code: str) -> str:
    return words.gettext(WORDS[code]) if code in WORDS else code.replace("_", " ")


def _dose_title(slot: DoseSlot, words: Wording) -> str:
    message = DOSE_TITLES[(slot.taken_at is not None, slot.tentative)]
    return words.gettext(message).format(
        key=slot.key,
        date=slot.date,
        status=slot.status if words.language == "en" else _status(words, slot.status),
        dose=_mg(slot.dose_mg),
        time=f"{slot.taken_at:%H:%M}" if slot.taken_at is not None else "",
    )


def _reduction_mark(
    group: ET.Element, row: _Row, day: date, before: float, after: float, words: Wording
) -> None:
    x = row.x(day) + DAY_W / 2
    top = row.y + (ROW_H - CELL_H) / 2 - 2
    _el(
        group,
        "path",
        words.gettext("Dose reduced from {before} to {after} on {day}").format(
            before=_mg(before), after=_mg(after), day=day
        ),
        d=f"M{x - 5:g},{top - 7:g} L{x + 5:g},{top - 7:g} L{x:g},{top:g} Z",
        fill=REDUCTION_COLOUR,
        class_="reduction",
        data_date=day.isoformat(),
    )


def _hold_title(hold: HoldPeriod, words: Wording) -> str:
    _ = words.gettext
    if hold.end is None:
        message = _("On hold from {start} ({reason}), not yet resumed")
    elif hold.resume_dose_mg is None:
        message = _("On hold from {start} ({reason}), resumed {end}")
    else:
        message = _("On hold from {start} ({reason}), resumed {end} at {dose}")
    dose = _mg(hold.resume_dose_mg) if hold.resume_dose_mg is not None else ""
    return message.format(start=hold.start, reason=hold.reason, end=hold.end, dose=dose)


def _hold_bands(
    group: ET.Element,
    rows: Sequence[_Row],
    holds: Sequence[HoldPeriod],
    today: date,
    words: Wording,
) -> None:
    for hold in holds:
        # An open hold is drawn up to today: it is never assumed to end.
        last = hold.end - _DAY if hold.end is not None else max(today, hold.start)
        title = _hold_title(hold, words)
        for row in rows:
            start, end = max(hold.start, row.start), min(last, row.end)
            if start > end:
                continue
            _el(
                group,
                "rect",
                title,
                x=row.x(start),
                y=row.y + 2,
                width=((end - start).days + 1) * row.scale,
                height=ROW_H - 4,
                fill=HOLD_FILL,
                class_="hold",
                data_start=start.isoformat(),
            )


def _visit_marks(group: ET.Element, row: _Row, visit: VisitPlan, words: Wording) -> None:
    _ = words.gettext
    mid = row.y + ROW_H - 5
    # A window reaching into the neighbouring cycle is clipped to this row.
    x0 = row.x(max(visit.window_start, row.start))
    x1 = row.x(min(visit.window_end, row.end)) + row.scale
    _el(
        group,
        "line",
        _("{code} window {start} to {end}").format(
            code=visit.code, start=visit.window_start, end=visit.window_end
        ),
        x1=x0,
        y1=mid,
        x2=x1,
        y2=mid,
        stroke="#455a64",
        stroke_width=2,
        class_="visit-window",
        data_code=visit.code,
    )
    cx = row.x(visit.actual or visit.target) + row.scale / 2
    if visit.actual:
        message = _("{code} {name}: {status}, done {day}, window {start} to {end}")
    else:
        message = _("{code} {name}: {status}, target {day}, window {start} to {end}")
    status = visit.status if words.language == "en" else _status(words, visit.status)
    _el(
        group,
        "path",
        message.format(
            code=visit.code,
            name=visit.name,
            status=status,
            day=visit.actual or visit.target,
            start=visit.window_start,
            end=visit.window_end,
        ),
        d=f"M{cx:g},{mid - 5:g} L{cx + 5:g},{mid:g} L{cx:g},{mid + 5:g} L{cx - 5:g},{mid:g} Z",
        fill=VISIT_COLOURS[visit.status],
        stroke="#263238",
        class_=f"visit {visit.status}",
        data_code=visit.code,
        data_status=visit.status,
    )


def _today_line(group: ET.Element, rows: Sequence[_Row], today: date, words: Wording) -> None:
    for row in rows:
        if row.holds(today):
            x = row.x(today) + row.scale / 2
            _el(
                group,
                "line",
                words.gettext("Today, {day}").format(day=today),
                x1=x,
                y1=row.y,
                x2=x,
                y2=row.y + ROW_H,
                stroke=TODAY_COLOUR,
                stroke_width=2,
                class_="today",
            )


def _legend(svg: ET.Element, y: int, words: Wording) -> None:
    legend = _el(svg, "g", class_="legend", transform=f"translate({LABEL_W},{y})")
    entries: list[tuple[str, str, str]] = [
        (status, colour, "rect") for status, colour in DOSE_COLOURS.items()
    ]
    entries += [("on hold", HOLD_FILL, "rect"), ("dose reduced", REDUCTION_COLOUR, "path")]
    entries += [(f"visit {s}", c, "diamond") for s, c in VISIT_COLOURS.items()]
    for i, (label, colour, shape) in enumerate(entries):
        x, ly = (i % LEGEND_COLUMNS) * LEGEND_ITEM_W, (i // LEGEND_COLUMNS) * 20
        item = _el(legend, "g", class_="legend-item", data_label=label)
        if shape == "diamond":
            _el(
                item,
                "path",
                d=f"M{x + 6},{ly} L{x + 12},{ly + 6} L{x + 6},{ly + 12} L{x},{ly + 6} Z",
                fill=colour,
                stroke="#263238",
            )
        elif shape == "path":
            _el(item, "path", d=f"M{x},{ly} L{x + 12},{ly} L{x + 6},{ly + 10} Z", fill=colour)
        else:
            outline = DOSE_OUTLINES.get(label, colour)
            _el(item, "rect", x=x, y=ly, width=12, height=12, fill=colour, stroke=outline)
            _glyph(item, label, x, ly, 12, 12)
        found = _LEGEND_WORDS.get(label)
        if found is None:  # a dose status: its code in English, as the cells' titles say it
            found = label if words.language == "en" else WORDS.get(label, label)
        text = words.gettext(found)
        _el(item, "text", x=x + 16, y=ly + 10, font_size=11).text = text


def timeline_svg(plan: Plan, today: date, words: Wording = SOURCE) -> str:
    """The plan as an SVG document (a string to embed in HTML as is), worded in ``words``'s
    language."""
    _ = words.gettext
    cycles = plan.cycles
    before = [v for v in plan.visits if v.target < cycles[0].nominal_day1]
    after = [v for v in plan.visits if v.target > cycles[-1].end]
    width_days = max(MIN_SPAN_DAYS, *((c.end - c.nominal_day1).days + 1 for c in cycles))

    rows: list[_Row] = []
    y = TOP
    if before:
        rows.append(_extra_row(BEFORE, before, y, width_days))
        y += ROW_H
    cycle_rows = _cycle_rows(cycles, y)
    rows += cycle_rows
    y += ROW_H * len(cycle_rows)
    if after:
        rows.append(_extra_row(AFTER, after, y, width_days))
        y += ROW_H

    width = LABEL_W + max(width_days * DAY_W, LEGEND_COLUMNS * LEGEND_ITEM_W) + 10
    height = y + 10 + LEGEND_H
    svg = ET.Element(
        "svg",
        {
            "xmlns": _SVG_NS,
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "role": "img",
            "aria-labelledby": "timeline-title timeline-desc",
            "class": "timeline",
            "font-family": "system-ui, sans-serif",
        },
    )
    ET.SubElement(svg, "title", {"id": "timeline-title"}).text = _(
        "Treatment timeline of {subject}"
    ).format(subject=plan.subject)
    ET.SubElement(svg, "desc", {"id": "timeline-desc"}).text = _(
        "{protocol}, status {status}, current dose {dose}, {cycles} cycles, {holds} holds, "
        "as of {today}."
    ).format(
        protocol=plan.protocol.id,
        status=_status(words, plan.status),
        dose=_mg(plan.dose_mg),
        cycles=len(cycles),
        holds=len(plan.holds),
        today=today,
    )
    for day in range(1, width_days + 1, 7):
        _el(svg, "text", x=LABEL_W + (day - 1) * DAY_W, y=TOP - 10, font_size=10).text = f"d{day}"

    bands = _el(svg, "g", class_="holds")
    _hold_bands(bands, rows, plan.holds, today, words)
    by_label = {row.label: row for row in rows}
    per_day = plan.protocol.schedule.administrations_per_day
    previous_mg: float | None = None
    for cycle, row in zip(cycles, cycle_rows, strict=True):
        group = _el(
            svg,
            "g",
            class_="cycle",
            data_cycle=cycle.number,
            data_day1=cycle.day1.isoformat(),
            data_x=row.x(cycle.day1),
        )
        day1 = f"{cycle.day1:%d %b}" if words.language == "en" else f"{cycle.day1:%m-%d}"
        label = f"C{cycle.number} {day1} {_mg(cycle.dose_mg)}"
        if cycle.delay_days:
            message = _(
                "Cycle {number}: day 1 {day1}, {status}, delayed {days} days from {nominal}"
            )
        else:
            message = _("Cycle {number}: day 1 {day1}, {status}")
        title = message.format(
            number=cycle.number,
            day1=cycle.day1,
            status=_status(words, cycle.status),
            days=cycle.delay_days,
            nominal=cycle.nominal_day1,
        )
        _el(group, "text", title, x=4, y=row.y + ROW_H / 2 + 4, font_size=11).text = label
        previous_mg = _dose_cells(group, row, cycle, per_day, previous_mg, words)
    visits = _el(svg, "g", class_="visits")
    for visit in plan.visits:
        if visit in before:
            row = by_label[BEFORE]
        elif visit in after:
            row = by_label[AFTER]
        else:
            row = next(r for r in cycle_rows if r.holds(visit.target))
        _visit_marks(visits, row, visit, words)
    for label in (BEFORE, AFTER):
        if label in by_label:
            row = by_label[label]
            _el(svg, "text", x=4, y=row.y + ROW_H / 2 + 4, font_size=11).text = _(label)
    _today_line(_el(svg, "g", class_="today-marks"), rows, today, words)
    _legend(svg, y + 10, words)
    return ET.tostring(svg, encoding="unicode")
