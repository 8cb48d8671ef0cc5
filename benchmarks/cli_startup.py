"""How long a command takes to start, against the floor of the libraries it cannot do without:
`dosing --help`, a simple write (`dosing dose S --date D --taken` on the demo database, for a
subject enrolled for it) and
plain imports of Python, SQLAlchemy, SQLModel and the project's tables. Each figure is the CPU
time (user + system) of a child process, the median of ``--runs``; the goal (issue 12) is 0.3 s
for `--help` and for a simple write. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/cli_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

VENV_BIN = Path(sys.executable).parent


def _cpu(command: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _median(command: list[str], env: dict[str, str], runs: int) -> float:
    _cpu(command, env)  # the first run pays for reading files into the page cache
    return statistics.median(_cpu(command, env) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="dosing-startup-")
    env = os.environ | {
        "DOSING_DATABASE_URL": f"sqlite:///{folder}/demo.db",
        "DOSING_USER": "demo-nurse",
        "DOSING_PASSWORD_HASH_COST": "minimal",
    }
    dosing = str(VENV_BIN / "dosing")
    subprocess.run([dosing, "demo"], env=env, check=True, capture_output=True)
    python = [sys.executable, "-c"]
    floor = {
        "python -c pass": [*python, "pass"],
        "import sqlalchemy": [*python, "import sqlalchemy"],
        "import sqlmodel": [*python, "import sqlmodel"],
        "import scheduler.models (the tables)": [*python, "import scheduler.models"],
    }
    print(f"CPU time (user + system), median of {options.runs} runs")
    for label, command in floor.items():
        print(f"  {label:40s} {_median(command, env, options.runs):6.3f} s")
    print(f"  {'dosing --help':40s} {_median([dosing, '--help'], env, options.runs):6.3f} s")
    # A subject whose cycle 1 began 16 days ago: its 14 dosing days have passed, each recorded
    # once (a second record of a day is a correction, refused without a reason).
    c1d1 = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=16)
    enroll = [dosing, "enroll", "BENCH-1", "--c1d1", c1d1.isoformat(), "--site", "ZJU1"]
    surgery = ["--surgery", (c1d1 - timedelta(days=35)).isoformat()]
    subprocess.run([*enroll, *surgery], env=env, check=True, capture_output=True)
    days = [(c1d1 + timedelta(days=n)).isoformat() for n in range(min(options.runs + 1, 14))]
    dose = [dosing, "dose", "BENCH-1", "--taken", "--date"]
    writes = [_cpu([*dose, day], env) for day in days]
    label = "dosing dose BENCH-1 --date D --taken"
    print(f"  {label:40s} {statistics.median(writes[1:]):6.3f} s")


if __name__ == "__main__":
    main()
