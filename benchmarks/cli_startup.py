"""How long a command takes to start, against the floor of the libraries it cannot do without:
`dosing --help`, a simple write (`dosing dose S --date D --taken` on the demo database, for a
subject enrolled for it) and
plain imports of Python, SQLAlchemy, SQLModel and the project's tables. Each figure is the CPU
time (user + system) of a child process, the median of ``--runs``; the goal (issue 12) is 0.3 s
for `--help` and for a simple write. Then the same two commands through `dosing resident`
(docs/resident.md), where the work moves out of the client: the client's CPU, the CPU of the
resident's fork that ran the command, and the wall time the person waits. Prints figures;
asserts nothing.

    .venv/bin/python benchmarks/cli_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

VENV_BIN = Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")


def _cpu(command: list[str], env: dict[str, str]) -> float:
    return _timed(command, env)[0]


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU time of the command's process and the wall time until it ended."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def _median(command: list[str], env: dict[str, str], runs: int) -> float:
    _cpu(command, env)  # the first run pays for reading files into the page cache
    return statistics.median(_cpu(command, env) for _ in range(runs))


def _reaped_cpu(pid: int) -> float:
    """CPU time of the children ``pid`` has reaped (the resident's forks), in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / TICK


def _own_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _start_resident(dosing: str, path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    resident = subprocess.Popen(
        [dosing, "resident", "--socket", str(path)], env=env, stderr=subprocess.DEVNULL
    )
    while True:
        if resident.poll() is not None:
            raise SystemExit("dosing resident did not start")
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(path))
                return resident
            except OSError:
                time.sleep(0.1)


def _through(label: str, commands: list[list[str]], env: dict[str, str], resident: int) -> None:
    """Client CPU, the fork's CPU and wall time of each command, medians (the first run, which
    reads files into the page cache, left out)."""
    figures = []
    for command in commands:
        forks_before = _reaped_cpu(resident)
        client, wall = _timed(command, env)
        figures.append((client, _reaped_cpu(resident) - forks_before, wall))
    client, fork, wall = (statistics.median(column) for column in zip(*figures[1:], strict=True))
    print(f"  {label:40s} {client:6.3f} s  {fork:6.3f} s  {wall:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="dosing-startup-")
    env = {k: v for k, v in os.environ.items() if k != "DOSING_RESIDENT_SOCKET"} | {
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
    surgery = ["--surgery", (c1d1 - timedelta(days=35)).isoformat()]
    for subject in ("BENCH-1", "BENCH-2"):
        enroll = [dosing, "enroll", subject, "--c1d1", c1d1.isoformat(), "--site", "ZJU1"]
        subprocess.run([*enroll, *surgery], env=env, check=True, capture_output=True)
    days = [(c1d1 + timedelta(days=n)).isoformat() for n in range(min(options.runs + 1, 14))]
    dose = [dosing, "dose", "BENCH-1", "--taken", "--date"]
    writes = [_timed([*dose, day], env) for day in days]
    label = "dosing dose BENCH-1 --date D --taken"
    cpu, wall = (statistics.median(column) for column in zip(*writes[1:], strict=True))
    print(f"  {label:40s} {cpu:6.3f} s   (wall {wall:.3f} s)")

    path = Path(folder) / "resident" / "resident.sock"
    resident = _start_resident(dosing, path, env)
    through = env | {"DOSING_RESIDENT_SOCKET": str(path)}
    print(
        f"\nThrough `dosing resident` (its start-up: {_own_cpu(resident.pid):.2f} s CPU, once), "
        f"median of {options.runs} runs\n"
        f"  {'':40s} {'client':>8s}  {'its fork':>8s}  {'wall':>8s}"
    )
    runs = options.runs + 1
    _through("dosing --help", [[dosing, "--help"]] * runs, through, resident.pid)
    dose = [dosing, "dose", "BENCH-2", "--taken", "--date"]
    _through(label, [[*dose, day] for day in days], through, resident.pid)
    resident.terminate()
    resident.wait()


if __name__ == "__main__":
    main()
