"""Turning results into text for people and JSON for scripts."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import typer

from scheduler import core
from scheduler.errors import InputError


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"cannot render {type(value).__name__}")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_default))


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    width: int | None = None,
    wrap: Sequence[str] = (),
) -> str:
    """A plain-text table. With ``width`` (the terminal's, ``terminal_width()``), the columns
    named in ``wrap`` are narrowed, widest first, until a line fits, and their long values are
    wrapped onto more lines of the same row (JSON in the audit trail, free-text reasons)."""
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if width is not None:
        widths = _fit(list(headers), widths, width, wrap)
    lines: list[str] = []
    for row in cells:
        parts = [
            textwrap.wrap(c, w, break_long_words=True, break_on_hyphens=False) or [""]
            if len(c) > w
            else [c]
            for c, w in zip(row, widths, strict=True)
        ]
        for i in range(max(len(p) for p in parts)):
            line = "  ".join(
                (p[i] if i < len(p) else "").ljust(w) for p, w in zip(parts, widths, strict=True)
            )
            lines.append(line.rstrip())
        if len(lines) == 1:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


MIN_WRAPPED = 8
"""The narrowest a wrapped column becomes: narrower, a value is more line breaks than text."""


def _fit(headers: list[str], widths: list[int], width: int, wrap: Sequence[str]) -> list[int]:
    widths = list(widths)
    wrappable = [i for i, h in enumerate(headers) if h in wrap]
    while sum(widths) + 2 * (len(widths) - 1) > width:
        candidates = [i for i in wrappable if widths[i] > max(MIN_WRAPPED, len(headers[i]))]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def terminal_width() -> int:
    """The terminal's width (``COLUMNS`` when set); 100 when the output is not a terminal."""
    return shutil.get_terminal_size((100, 24)).columns


def mg(value: float | None) -> str:
    return "" if value is None else f"{value:g} mg"


def plan_text(plan: core.Plan) -> str:
    a = plan.anchors
    zone = getattr(a.time_zone, "key", str(a.time_zone))
    out = [
        f"{plan.subject}  {plan.protocol.id} v{plan.protocol.version}  {plan.status}  "
        f"{mg(plan.dose_mg)}  (C1D1 {a.c1d1}, surgery {a.surgery}, {zone}, dose at "
        f"{a.dose_time:%H:%M}; as of {plan.today})",
        "",
    ]
    rows = []
    for c in plan.cycles:
        counts: dict[str, int] = {}
        for s in c.doses:
            counts[s.status] = counts.get(s.status, 0) + 1
        summary = " ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        flag = " (tentative)" if c.tentative else ""
        rows.append(
            [c.number, c.day1, c.end, mg(c.dose_mg), c.status + flag, c.delay_days, summary]
        )
    out.append(table(["cycle", "day 1", "ends", "dose", "status", "delay", "doses"], rows))
    out.append("")
    out.append(dosing_grid(plan))
    out.append("")
    visit_rows = [
        [v.code, v.name, v.target, f"{v.window_start}..{v.window_end}", v.status, v.actual or ""]
        for v in plan.visits
    ]
    out.append(table(["visit", "name", "target", "window", "status", "done"], visit_rows))
    if plan.holds:
        out.append("")
        for h in plan.holds:
            end = h.end or "open"
            out.append(f"hold {h.start} -> {end}: {h.reason} ({h.length_days(plan.today)} days)")
    for proposal in plan.proposals:
        out.append(f"PROPOSED: {proposal.action}: {proposal.reason}")
    return "\n".join(out)


DOSE_MARKS = {
    "taken": "T",
    "late": "L",
    "taken_outside_window": "W",
    "missed": "M",
    "held": "H",
    "planned": ".",
    "cancelled": "x",
}
"""One character per dose slot in ``dosing plan``'s grid; lower case when tentative."""


def dosing_grid(plan: core.Plan) -> str:
    """Every dosing day of every cycle, a row per cycle and a column per cycle day: the whole
    plan on one screen (a twice-daily regimen shows two marks a day)."""
    days = sorted({s.day for c in plan.cycles for s in c.doses})
    rows = []
    for c in plan.cycles:
        marks: dict[int, str] = {}
        for s in c.doses:
            mark = DOSE_MARKS.get(s.status, "?")
            marks[s.day] = marks.get(s.day, "") + (mark.lower() if s.tentative else mark)
        rows.append([f"C{c.number}", c.day1, *(marks.get(d, "") for d in days)])
    key = ", ".join(f"{mark} {status.replace('_', ' ')}" for status, mark in DOSE_MARKS.items())
    grid = table(["cycle", "day 1", *(f"D{d}" for d in days)], rows)
    return f"every dosing day ({key}; lower case: tentative)\n{grid}"


def write_file(field: str, path: Path, content: str | bytes) -> None:
    """Write a command's output file; a path that cannot be written is bad input naming the
    option (exit 2), not an unexpected error."""
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise InputError(field, f"cannot write {str(path)!r}: {exc.strerror}") from exc
