"""Enroll + plan round trips per second through the service layer, on SQLite and PostgreSQL.

Each round trip is two units of work, as the CLI does them: enroll a subject (validation,
insert, audit, commit), then load and compute their plan. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/service_roundtrip.py [--count N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scheduler.clock import SystemClock
from scheduler.db import get_engine, normalise_url
from scheduler.kernel.protocol_versions import load_shipped_protocols
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.subject_state import plan_for
from scheduler.kernel.unit import unit_of_work
from scheduler.migrate import upgrade
from scheduler.settings import Settings
from scheduler.subjects.enrolment import enroll


def measure(url: str, count: int) -> float:
    upgrade(url)
    engine = get_engine(url)
    clock = SystemClock()
    with unit_of_work(engine, "bench", clock) as unit:
        load_shipped_protocols(unit)
        ensure_default_site(unit, Settings())
    start = time.perf_counter()
    for n in range(count):
        code = f"B{n:06d}"
        with unit_of_work(engine, "bench", clock) as unit:
            c1d1 = date(2026, 1, 5) + timedelta(days=n % 300)
            enroll(unit, code, c1d1=c1d1, surgery=c1d1 - timedelta(days=30), site_code="ZJU1")
        with unit_of_work(engine, "bench", clock) as unit:
            plan_for(unit.session, code, unit.now)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rate = measure(f"sqlite:///{Path(folder) / 'bench.db'}", args.count)
        print(f"sqlite:     {rate:8.1f} enroll+plan round trips/s ({args.count} subjects)")
    admin = create_engine(normalise_url(args.postgres), isolation_level="AUTOCOMMIT")
    name = f"dosing_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(args.postgres)).set(database=name).render_as_string(False)
    try:
        rate = measure(url, args.count)
        print(f"postgresql: {rate:8.1f} enroll+plan round trips/s ({args.count} subjects)")
    finally:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
