"""Lab results: CTCAE grades per second from the pure core, unit conversions per second through
pint, and results recorded per second through the service (grading, adverse-event proposals and
the labs projection in one unit of work each) on a fresh SQLite file. Prints figures; asserts
nothing.

    .venv/bin/python benchmarks/lab_results.py [--grades N] [--records N]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from scheduler.app.bootstrap import bootstrap
from scheduler.clock import FixedClock
from scheduler.core.lab_grades import Measured, grade
from scheduler.db import get_engine
from scheduler.kernel.protocol_versions import load_shipped_protocols
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.unit import unit_of_work
from scheduler.labs.results import record_result
from scheduler.labs.units import to_grading_unit
from scheduler.migrate import upgrade
from scheduler.protocols.grading_table import ctcae_v5
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll


def grades_per_second(count: int) -> float:
    table = ctcae_v5()
    tests = [t for t in table.tests.values() if t.grades]
    rng = random.Random(16)
    cases = [
        (
            rng.choice(tests),
            Measured(value=rng.uniform(0, 500), lln=10.0, uln=40.0),
            Measured(value=rng.uniform(1, 100), lln=10.0, uln=40.0) if rng.random() < 0.5 else None,
        )
        for _ in range(count)
    ]
    start = time.perf_counter()
    for test, result, baseline in cases:
        grade(test, result, baseline)
    return count / (time.perf_counter() - start)


def conversions_per_second(count: int) -> float:
    table = ctcae_v5()
    pairs = [
        (table.tests["TBIL"], "umol/L"),
        (table.tests["HGB"], "g/L"),
        (table.tests["ANC"], "/uL"),
    ]
    start = time.perf_counter()
    for n in range(count):
        test, unit = pairs[n % len(pairs)]
        to_grading_unit(test, 10.0 + n % 7, unit)
    return count / (time.perf_counter() - start)


def records_per_second(count: int) -> float:
    bootstrap()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    engine = get_engine(url)
    clock = FixedClock(datetime(2026, 6, 1, 4, 0, tzinfo=UTC))
    settings = Settings(database_url=url, user="bench")
    with unit_of_work(engine, "setup", clock, settings) as unit:
        load_shipped_protocols(unit)
        site = ensure_default_site(unit, settings).code
        enroll(unit, "B-1", c1d1="2026-03-02", surgery="2026-01-20", site_code=site)
    rng = random.Random(16)
    days = [date(2026, 3, 2) + timedelta(days=n) for n in range(count)]
    start = time.perf_counter()
    for day in days:
        with unit_of_work(engine, "nurse", clock, settings) as unit:
            record_result(
                unit, "B-1", test="ALT", value=str(rng.randint(20, 300)), unit_text="U/L",
                uln=40, on=day,
            )  # fmt: skip
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grades", type=int, default=200_000)
    parser.add_argument("--records", type=int, default=60)
    args = parser.parse_args()
    print(f"grades/s (pure core):          {grades_per_second(args.grades):,.0f}")
    print(f"unit conversions/s (pint):     {conversions_per_second(args.grades // 20):,.0f}")
    print(f"results recorded/s (service):  {records_per_second(args.records):,.1f}")


if __name__ == "__main__":
    main()
