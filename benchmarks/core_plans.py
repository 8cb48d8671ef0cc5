"""Plans per second from the pure core: ``build_plan`` for 10,000 subjects on one core.

The subjects and their histories (holds, reduced resumptions, taken, late and missed doses, some
discontinuations and adverse events) are generated from a fixed seed before the clock starts, and
each is checked to be one the core accepts. Only the ``build_plan`` calls are timed. Prints
figures; asserts nothing.

    .venv/bin/python benchmarks/core_plans.py [--count N] [--seed S] [--rounds R] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import time
from dataclasses import replace
from datetime import date, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from scheduler.core import (
    Anchors,
    DoseOutcome,
    History,
    HoldEnd,
    HoldStart,
    ToxicityReport,
    TreatmentStop,
    build_plan,
)
from scheduler.errors import InputError
from scheduler.protocols import Protocol, load_protocol, shipped_protocol_files

ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Europe/Berlin", "America/New_York")
TERMS = ("hypertension", "fatigue", "diarrhea", "neutrophil count decreased", "proteinuria")
REASONS = ("relapse", "toxicity", "withdrawal", "investigator")


def _holds(rnd: random.Random, protocol: Protocol, c1d1: date, today: date) -> History:
    """Zero to two holds, most resumed (a third of them one level lower), the last maybe open."""
    levels = [level.dose_mg for level in protocol.dose_levels]
    level = 0
    holds: list[HoldStart] = []
    resumptions: list[HoldEnd] = []
    start = c1d1 + timedelta(days=rnd.randrange(3, 60))
    for n in range(1, rnd.choice((0, 0, 0, 1, 1, 2)) + 1):
        if start >= today:
            break
        holds.append(HoldStart(id=n, on=start, reason="toxicity"))
        end = start + timedelta(days=rnd.randrange(2, 21))
        if end > today:
            break  # still on hold
        dose = None
        if rnd.random() < 0.35 and level + 1 < len(levels):
            level += 1
            dose = levels[level]
        resumptions.append(HoldEnd(id=n, on=end, dose_mg=dose))
        start = end + timedelta(days=rnd.randrange(5, 50))
    return History(holds=tuple(holds), resumptions=tuple(resumptions))


def _subject(rnd: random.Random, protocols: list[Protocol], n: int):
    protocol = protocols[0] if rnd.random() < 0.8 else protocols[1]
    c1d1 = date(2025, 1, 6) + timedelta(days=rnd.randrange(500))
    anchors = Anchors(
        subject=f"S{n:05d}",
        c1d1=c1d1,
        surgery=c1d1 - timedelta(days=rnd.randrange(20, 60)),
        time_zone=ZoneInfo(rnd.choice(ZONES)),
        dose_time=clock_time(rnd.choice((7, 8, 8, 9)), rnd.choice((0, 0, 30))),
    )
    span = protocol.schedule.cycles * protocol.schedule.cycle_length_days
    today = c1d1 + timedelta(days=rnd.randrange(-10, span + 40))
    history = _holds(rnd, protocol, c1d1, today)
    if rnd.random() < 0.1:
        stop = c1d1 + timedelta(days=rnd.randrange(5, span))
        if stop <= today and all(h.on <= stop for h in history.holds):
            history = replace(
                history,
                resumptions=tuple(r for r in history.resumptions if r.on <= stop),
                discontinuation=TreatmentStop(id=1, on=stop, reason=rnd.choice(REASONS)),
            )
    plan = build_plan(protocol, anchors, history, today)
    doses: list[DoseOutcome] = []
    for slot in plan.doses():
        if slot.status != "planned" or slot.date > today or rnd.random() < 0.03:
            continue
        if rnd.random() < 0.07:
            doses.append(DoseOutcome(id=len(doses) + 1, on=slot.date, taken=False, slot=slot.slot))
            continue
        late = rnd.choice((0, 0, 0, 0, 0, 0, 1, 2, 3, 13))
        at = clock_time(min(23, slot.time.hour + late), rnd.randrange(60))
        doses.append(
            DoseOutcome(id=len(doses) + 1, on=slot.date, taken=True, slot=slot.slot, taken_at=at)
        )
    events = tuple(
        ToxicityReport(
            id=k,
            term=rnd.choice(TERMS),
            grade=rnd.choice((1, 1, 2, 2, 3, 4)),
            onset=c1d1 + timedelta(days=rnd.randrange(max(1, (today - c1d1).days))),
        )
        for k in range(1, rnd.choice((0, 0, 1, 2, 3)) + 1)
    )
    history = replace(history, doses=tuple(doses), adverse_events=events)
    build_plan(protocol, anchors, history, today)  # the core must accept it
    return protocol, anchors, history, today


def generate(count: int, seed: int) -> list[tuple[Protocol, Anchors, History, date]]:
    rnd = random.Random(seed)
    protocols = [
        load_protocol(next(p for p in shipped_protocol_files() if p.name == name))
        for name in ("nct03945799.toml", "example_capecitabine.toml")
    ]
    subjects = []
    while len(subjects) < count:
        try:
            subjects.append(_subject(rnd, protocols, len(subjects)))
        except InputError:
            continue
    return subjects


def run(subjects: list[tuple[Protocol, Anchors, History, date]]) -> float:
    start = time.perf_counter()
    for protocol, anchors, history, today in subjects:
        build_plan(protocol, anchors, history, today)
    return time.perf_counter() - start


def timed_round(subjects: list[tuple[Protocol, Anchors, History, date]]) -> tuple[float, float]:
    """(wall, CPU) seconds of one round. CPU time is the steadier figure on a shared machine:
    it leaves out the time other processes held the core (not their effect on caches)."""
    cpu = time.process_time()
    wall = run(subjects)
    return wall, time.process_time() - cpu


def describe(subjects: list[tuple[Protocol, Anchors, History, date]]) -> str:
    holds = sum(1 for s in subjects if s[2].holds)
    reduced = sum(1 for s in subjects if any(r.dose_mg for r in s[2].resumptions))
    stopped = sum(1 for s in subjects if s[2].discontinuation is not None)
    records = sum(len(s[2].doses) for s in subjects)
    twice_daily = sum(1 for s in subjects if s[0].schedule.administrations_per_day > 1)
    return (
        f"{len(subjects)} subjects ({twice_daily} twice daily): {holds} with holds, "
        f"{reduced} resumed at a reduced level, {stopped} discontinued, "
        f"{records} dose records ({records / len(subjects):.0f} per subject)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="one round under cProfile")
    args = parser.parse_args()

    started = time.perf_counter()
    subjects = generate(args.count, args.seed)
    print(f"generated in {time.perf_counter() - started:.1f} s (not timed)")
    print(describe(subjects))
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(run, subjects)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    run(subjects[:200])  # warm caches and the interpreter
    load_before = os.getloadavg()[0]
    rounds = [timed_round(subjects) for _ in range(args.rounds)]
    seconds = [wall for wall, _ in rounds]
    cpu = [used for _, used in rounds]
    best, median = min(seconds), statistics.median(seconds)
    print(f"rounds: {', '.join(f'{s:.3f}' for s in seconds)} s")
    print(
        f"best: {best:.3f} s for {len(subjects)} plans = {len(subjects) / best:,.0f} plans/s "
        f"({best / len(subjects) * 1e6:.0f} us/plan); median {median:.3f} s"
    )
    print(
        f"CPU time: best {min(cpu):.3f} s, median {statistics.median(cpu):.3f} s; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after "
        f"({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
