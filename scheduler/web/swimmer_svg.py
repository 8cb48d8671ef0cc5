"""The study overview's swimmer plot: one bar per subject, the picture investigators use to see
a trial at a glance. Pure: plans in, an SVG document out (built with ``xml.etree``).

Every bar starts at the subject's cycle 1 day 1 (x = days on study), is coloured by dose level
(a resumption at a lower level changes the colour from that day), is drawn in the hold colour
while dosing was on hold, and ends with a mark saying why: discontinued (with the reason),
completed, or ongoing (arrow). Subjects still in screening are listed with their planned C1D1
and no bar. Longest bars first. Its words are in the reader's language (``words``; English when
none is given).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.core import Plan
from scheduler.core.wording import N_, SOURCE, Wording
from scheduler.protocols import Protocol

LEVEL_COLOURS: tuple[str, ...] = ("#1565c0", "#42a5f5", "#90caf9", "#bbdefb", "#e3f2fd")
"""Dose level 0 (starting dose), -1, -2, ...: darker is more drug."""
HOLD_COLOUR = "#6a1b9a"
STOP_COLOUR = "#c62828"
DONE_COLOUR = "#2e7d32"
OUTCOMES = {
    "discontinued": N_("discontinued"),
    "completed": N_("completed"),
    "ongoing": N_("ongoing"),
    "on hold": N_("on hold"),
    "screening": N_("screening"),
    "screen failure": N_("screen failure"),
    "withdrawn before treatment": N_("withdrawn before treatment"),
}
"""A bar's outcome in words (the ``data-outcome`` attribute keeps the English)."""
LABEL_W = 110
PLOT_W = 640
ROW_H = 22
BAR_H = 12
TOP = 30
REASON_W = 150
_SVG_NS = "http://www.w3.org/2000/svg"
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Segment:
    start: date
    end: date
    """Inclusive."""
    level: int
    dose_mg: float


@dataclass(frozen=True, slots=True)
class Swimmer:
    """One subject's bar, in dates; the drawing turns them into pixels."""

    subject: str
    c1d1: date
    end: date
    outcome: str
    """"ongoing", "on hold", "completed", "discontinued", "screening" or "stopped before
    treatment" (a screen failure or a withdrawal before C1D1)."""
    reason: str
    segments: tuple[Segment, ...]
    holds: tuple[tuple[date, date, str], ...]

    @property
    def days(self) -> int:
        return (self.end - self.c1d1).days + 1 if self.segments else 0


def _level(protocol: Protocol, dose_mg: float) -> int:
    found = protocol.level_for(dose_mg)
    return found.level if found is not None else 0


def swimmer_of(plan: Plan, today: date) -> Swimmer:
    """The bar of one subject as of ``today``."""
    c1d1 = plan.cycles[0].day1
    stop = plan.discontinuation
    if today < c1d1 and (stop is None or stop.on > today):
        return Swimmer(plan.subject, c1d1, c1d1, "screening", "", (), ())
    if stop is not None and stop.on < c1d1:
        # Stopped before the first day of treatment: no bar to draw, only the outcome.
        return Swimmer(plan.subject, c1d1, c1d1, "stopped before treatment", stop.reason, (), ())
    if stop is not None and stop.on <= today:
        end, outcome, reason = stop.on, "discontinued", stop.reason
    elif plan.status == "completed":
        end, outcome, reason = plan.cycles[-1].end, "completed", ""
    else:
        end, outcome, reason = today, plan.status.replace("_", " "), ""
        if outcome == "on treatment":
            outcome = "ongoing"
    end = max(end, c1d1)
    # The dose changes only where a hold ends with a resumption at another level.
    changes = [
        (h.end, h.resume_dose_mg)
        for h in plan.holds
        if h.end is not None and h.resume_dose_mg is not None and h.end <= end
    ]
    segments: list[Segment] = []
    start, dose = c1d1, plan.cycles[0].dose_mg
    for day, new_dose in sorted(changes):
        if new_dose == dose or day <= start:
            dose = new_dose
            continue
        segments.append(Segment(start, day - _DAY, _level(plan.protocol, dose), dose))
        start, dose = day, new_dose
    segments.append(Segment(start, end, _level(plan.protocol, dose), dose))
    holds = tuple(
        (h.start, min(h.end - _DAY if h.end else end, end), h.reason)
        for h in plan.holds
        if h.start <= end
    )
    return Swimmer(plan.subject, c1d1, end, outcome, reason, tuple(segments), holds)


def _el(parent: ET.Element, tag: str, title: str | None = None, **attrs: object) -> ET.Element:
    element = ET.SubElement(
        parent,
        tag,
        {k.rstrip("_").replace("_", "-"): f"{v:g}" if isinstance(v, float) else str(v)
         for k, v in attrs.items()},
    )  # fmt: skip
    if title is not None:
        ET.SubElement(element, "title").text = title
    return element


def _colour(level: int) -> str:
    return LEVEL_COLOURS[min(-level, len(LEVEL_COLOURS) - 1)] if level <= 0 else LEVEL_COLOURS[0]


def _outcome(words: Wording, outcome: str) -> str:
    return words.gettext(OUTCOMES.get(outcome, outcome))


def swimmer_svg(
    plans: Sequence[Plan], today: date, *, title: str = "Swimmer plot", words: Wording = SOURCE
) -> str:
    """All subjects' bars as one SVG document, longest first."""
    _ = words.gettext
    swimmers = sorted(
        (swimmer_of(p, today) for p in plans), key=lambda s: (-s.days, s.c1d1, s.subject)
    )
    longest = max((s.days for s in swimmers), default=0)
    span = max(longest, 21)
    scale = PLOT_W / span
    levels = sorted(
        {(seg.level, seg.dose_mg) for s in swimmers for seg in s.segments}, reverse=True
    )
    legend_rows = 2 + (len(levels) + 3) // 4
    width = LABEL_W + PLOT_W + REASON_W
    height = TOP + ROW_H * max(len(swimmers), 1) + 30 + legend_rows * 18
    svg = ET.Element(
        "svg",
        {
            "xmlns": _SVG_NS,
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "role": "img",
            "aria-labelledby": "swimmer-title swimmer-desc",
            "class": "swimmer",
            "font-family": "system-ui, sans-serif",
        },
    )
    ET.SubElement(svg, "title", {"id": "swimmer-title"}).text = title
    outcomes = [s.outcome for s in swimmers]
    counted = [
        _("{count} {outcome}").format(count=outcomes.count(o), outcome=_outcome(words, o))
        for o in sorted(set(outcomes))
    ]
    ET.SubElement(svg, "desc", {"id": "swimmer-desc"}).text = _(
        "{count} subjects as of {today}: {outcomes}."
    ).format(count=len(swimmers), today=today, outcomes=words.enumerate(counted))
    step = 28 if span <= 200 else 84
    for day in range(0, span + 1, step):
        x = LABEL_W + day * scale
        _el(svg, "line", x1=x, y1=TOP - 4, x2=x, y2=TOP + ROW_H * len(swimmers), stroke="#eee")
        _el(svg, "text", x=x, y=TOP - 8, font_size=10, text_anchor="middle").text = f"{day}"
    _el(svg, "text", x=4, y=TOP - 8, font_size=10).text = _("days from C1D1")

    for i, s in enumerate(swimmers):
        _draw(svg, s, TOP + i * ROW_H, scale, words)
    _legend(svg, TOP + ROW_H * max(len(swimmers), 1) + 20, levels, words)
    return ET.tostring(svg, encoding="unicode")


def _draw(svg: ET.Element, s: Swimmer, y: int, scale: float, words: Wording) -> None:
    _ = words.gettext
    group = _el(svg, "g", class_="subject", data_subject=s.subject, data_outcome=s.outcome)
    mid = y + ROW_H / 2
    _el(group, "text", x=4, y=mid + 4, font_size=11).text = s.subject
    if not s.segments:
        if s.outcome == "screening":
            caption = _("screening, C1D1 {day}").format(day=s.c1d1)
        else:
            caption = _("stopped before C1D1 {day} ({reason})").format(day=s.c1d1, reason=s.reason)
        _el(group, "text", x=LABEL_W, y=mid + 4, font_size=11, fill="#555").text = caption
        return

    def x(day: date) -> float:
        return LABEL_W + (day - s.c1d1).days * scale

    for seg in s.segments:
        _el(
            group,
            "rect",
            _("{subject}: {dose} mg (level {level}) from {start} to {end}").format(
                subject=s.subject,
                dose=f"{seg.dose_mg:g}",
                level=seg.level,
                start=seg.start,
                end=seg.end,
            ),
            x=x(seg.start),
            y=mid - BAR_H / 2,
            width=max(((seg.end - seg.start).days + 1) * scale, 1.0),
            height=BAR_H,
            fill=_colour(seg.level),
            class_="dose-segment",
            data_level=seg.level,
            data_start=seg.start.isoformat(),
        )
    for start, end, reason in s.holds:
        _el(
            group,
            "rect",
            _("{subject}: on hold {start} to {end} ({reason})").format(
                subject=s.subject, start=start, end=end, reason=reason
            ),
            x=x(start),
            y=mid - BAR_H / 2,
            width=max(((end - start).days + 1) * scale, 2.0),
            height=BAR_H,
            fill=HOLD_COLOUR,
            opacity=0.85,
            class_="hold",
            data_start=start.isoformat(),
        )
    tip = x(s.end) + scale
    if s.outcome == "discontinued":
        _el(
            group,
            "path",
            _("{subject}: discontinued {day} ({reason})").format(
                subject=s.subject, day=s.end, reason=s.reason
            ),
            d=f"M{tip - 5:g},{mid - 5:g} L{tip + 5:g},{mid + 5:g} M{tip - 5:g},{mid + 5:g} "
            f"L{tip + 5:g},{mid - 5:g}",
            stroke=STOP_COLOUR,
            stroke_width=2.5,
            class_="discontinued",
        )
        label = _("{reason} ({days} d)").format(reason=s.reason, days=(s.end - s.c1d1).days + 1)
    elif s.outcome == "completed":
        _el(
            group,
            "circle",
            _("{subject}: completed {day}").format(subject=s.subject, day=s.end),
            cx=tip,
            cy=mid,
            r=5,
            fill=DONE_COLOUR,
            class_="completed",
        )
        label = _outcome(words, "completed")
    else:
        _el(
            group,
            "path",
            _("{subject}: {outcome} on day {day}").format(
                subject=s.subject,
                outcome=_outcome(words, s.outcome),
                day=(s.end - s.c1d1).days + 1,
            ),
            d=f"M{tip:g},{mid - 6:g} L{tip + 8:g},{mid:g} L{tip:g},{mid + 6:g} Z",
            fill="#455a64",
            class_="ongoing",
        )
        label = _outcome(words, s.outcome)
    _el(group, "text", x=tip + 12, y=mid + 4, font_size=10, fill="#333").text = label


def _legend(svg: ET.Element, y: int, levels: list[tuple[int, float]], words: Wording) -> None:
    _ = words.gettext
    legend = _el(svg, "g", class_="legend", transform=f"translate({LABEL_W},{y})")
    entries: list[tuple[str, str, str]] = [
        (_("{dose} mg (level {level})").format(dose=f"{mg:g}", level=level), _colour(level), "rect")
        for level, mg in levels
    ]
    entries += [
        (_("hold"), HOLD_COLOUR, "hold"),
        (_("discontinued (reason)"), STOP_COLOUR, "cross"),
        (_outcome(words, "completed"), DONE_COLOUR, "circle"),
        (_outcome(words, "ongoing"), "#455a64", "arrow"),
    ]
    for i, (label, colour, shape) in enumerate(entries):
        lx, ly = (i % 4) * 160, (i // 4) * 18
        item = _el(legend, "g", class_="legend-item", data_label=label)
        if shape == "rect":
            _el(item, "rect", x=lx, y=ly, width=14, height=10, fill=colour)
        elif shape == "hold":
            _el(item, "rect", x=lx, y=ly, width=14, height=10, fill=colour, opacity=0.85)
        elif shape == "cross":
            _el(
                item,
                "path",
                d=f"M{lx},{ly} L{lx + 10},{ly + 10} M{lx},{ly + 10} L{lx + 10},{ly}",
                stroke=colour,
                stroke_width=2.5,
            )
        elif shape == "circle":
            _el(item, "circle", cx=lx + 5, cy=ly + 5, r=5, fill=colour)
        else:
            _el(item, "path", d=f"M{lx},{ly} L{lx + 8},{ly + 5} L{lx},{ly + 10} Z", fill=colour)
        _el(item, "text", x=lx + 18, y=ly + 9, font_size=11).text = label
