"""One hypothesis strategy for the pictures' property tests: whatever the core can plan, the
swimmer plot and the timeline must draw, so both draw from the same random histories."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

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
from scheduler.errors import InputError
from scheduler.protocols import Protocol, load_protocol, shipped_protocol_files

ANLOTINIB = load_protocol(next(p for p in shipped_protocol_files() if p.name == "nct03945799.toml"))


@st.composite
def planned_histories(draw: st.DrawFn, protocol: Protocol = ANLOTINIB) -> tuple[Plan, date]:
    """A plan with holds, resumptions at any level, doses taken or missed and perhaps a
    discontinuation, built one event at a time; events the core refuses are dropped."""
    c1d1 = date(2026, 1, 5)
    anchors = Anchors(
        subject="P-1",
        c1d1=c1d1,
        surgery=c1d1 - timedelta(days=35),
        time_zone=ZoneInfo("Asia/Shanghai"),
        dose_time=time(8, 0),
    )
    today = c1d1 + timedelta(days=draw(st.integers(-10, 200)))
    levels = [None, *(lvl.dose_mg for lvl in protocol.dose_levels)]
    history = History()
    plan = build_plan(protocol, anchors, history, today)
    for n in range(1, draw(st.integers(0, 12)) + 1):
        kind = draw(st.sampled_from(["hold", "resume", "dose", "discontinue"]))
        on = c1d1 + timedelta(days=draw(st.integers(0, 200)))
        if kind == "hold":
            candidate = replace(
                history, holds=(*history.holds, HoldStart(id=n, on=on, reason="grade 3 AE"))
            )
        elif kind == "resume":
            last = max((h.on for h in history.holds), default=c1d1)
            resumed = HoldEnd(
                id=n,
                on=last + timedelta(days=draw(st.integers(1, 30))),
                dose_mg=draw(st.sampled_from(levels)),
            )
            candidate = replace(history, resumptions=(*history.resumptions, resumed))
        elif kind == "dose":
            record = DoseOutcome(id=n, on=on, taken=draw(st.booleans()))
            candidate = replace(history, doses=(*history.doses, record))
        else:
            stop = TreatmentStop(id=n, on=on, reason=draw(st.sampled_from(["relapse", "death"])))
            candidate = replace(history, discontinuation=stop)
        try:
            plan = build_plan(protocol, anchors, candidate, today)
        except InputError:
            continue
        history = candidate
    return plan, today
