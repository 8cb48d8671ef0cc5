"""Turning results into text for people and JSON for scripts."""

from __future__ import annotations

import json
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


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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
