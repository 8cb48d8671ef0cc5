"""`dosing resident` and the `dosing` command in front of it (docs/resident.md): through a
resident a command stores, prints and exits exactly as in its own process; a resident older than
the installed code stops and the command runs in-process; nothing is left behind.

Whether a command ran in the resident is read from the client's CPU time: the client imports
only the standard library (some 0.03 s), a command in its own process at least SQLModel and the
tables (0.7 s and more, docs/speed.md)."""

import fcntl
import json
import os
import pty
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_runner import ACCOUNTS, run

import scheduler
from scheduler.app import entry

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("resident")]

DOSING = str(Path(sys.executable).parent / "dosing")
SOURCE = Path(scheduler.__file__).resolve().parents[1]
THROUGH_RESIDENT_CPU = 0.3
"""Above any client that talked to a resident, below any command run in-process."""
INVESTIGATOR = ("--user", ACCOUNTS["investigator"])


@dataclass
class Resident:
    process: subprocess.Popen
    socket: Path
    log: Path

    def forks(self) -> list[int]:
        """Pids of the resident's children: running forks, or zombies nobody reaped."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children


def start_resident(folder: Path, env: dict[str, str] | None = None) -> Resident:
    path = folder / "run" / "resident.sock"
    log = folder / "resident.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [DOSING, "resident", "--socket", str(path)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        if path.exists():
            with socket.socket(socket.AF_UNIX) as probe:
                try:
                    probe.connect(str(path))
                    return Resident(process, path, log)
                except OSError:
                    pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"no resident listening: {log.read_text()}")


@pytest.fixture(scope="module")
def resident(tmp_path_factory):
    started = start_resident(tmp_path_factory.mktemp("resident"))
    yield started
    started.process.send_signal(signal.SIGTERM)
    assert started.process.wait(timeout=60) == 0


@dataclass
class Ran:
    code: int
    out: str
    err: str
    cpu: float


def dosing(*argv, via=None, env=None, stdin=subprocess.DEVNULL, cwd=None) -> Ran:
    """``dosing *argv`` as a new process; through the resident listening at ``via``, if any."""
    environ = {k: v for k, v in os.environ.items() if k != entry.SOCKET_VARIABLE}
    environ.update(env or {})
    if via is not None:
        environ[entry.SOCKET_VARIABLE] = str(via)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [DOSING, *argv], env=environ, stdin=stdin, capture_output=True, text=True, cwd=cwd
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Ran(done.returncode, done.stdout, done.stderr, cpu)


def enroll(capsys, url: str) -> str:
    """The database at ``url`` with S-001 enrolled (C1D1 2026-01-05) and the test accounts."""
    assert run(capsys, "init", "--db", url)[0] == 0
    command = ["enroll", "S-001", "--c1d1", "2026-01-05", "--surgery", "2025-12-01"]
    assert run(capsys, *command, "--db", url)[0] == 0
    return url


@pytest.fixture
def enrolled(capsys, db_url):
    return enroll(capsys, db_url)


@pytest.fixture
def enrolled_sqlite(capsys, sqlite_url):
    return enroll(capsys, sqlite_url)


def tcp_socket_inodes() -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            inodes |= {line.split()[9] for line in lines}
    return inodes


def database_handles(pid: int, db_url: str) -> list[str]:
    """The process's descriptors on the SQLite file of ``db_url`` or on any TCP connection."""
    tcp = tcp_socket_inodes()
    sqlite_file = db_url.removeprefix("sqlite:///")
    handles = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith(sqlite_file) or target.removeprefix("socket:[")[:-1] in tcp:
            handles.append(target)
    return handles


def test_a_dose_written_through_the_resident_is_stored(capsys, enrolled, resident):
    ran = dosing(
        "dose",
        "S-001",
        "--date",
        "2026-01-06",
        "--taken",
        "--db",
        enrolled,
        *INVESTIGATOR,
        via=resident.socket,
    )
    assert ran.code == 0, ran.err
    assert ran.out == "recorded S-001 C1D2 2026-01-06 12 mg: taken\n" and ran.err == ""
    assert ran.cpu < THROUGH_RESIDENT_CPU
    _, out, _ = run(capsys, "plan", "S-001", "--json", "--db", enrolled)
    assert json.loads(out)["cycles"][0]["doses"][1]["status"] == "taken"
    assert database_handles(resident.process.pid, enrolled) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["dose", "S-001", "--date", "2026-01-20", "--taken"],  # a rest day: the service says so
        ["ae", "S-001", "--term", "Rash", "--grade", "x", "--onset", "2026-01-06"],  # Typer does
        ["dose", "GHOST", "--date", "2026-01-06", "--taken"],
    ],
)
def test_bad_input_exits_2_with_the_same_line_as_in_process(enrolled_sqlite, resident, argv):
    command = [*argv, "--db", enrolled_sqlite, *INVESTIGATOR]
    in_process = dosing(*command)
    through = dosing(*command, via=resident.socket)
    assert through.cpu < THROUGH_RESIDENT_CPU < in_process.cpu
    assert (through.code, through.out, through.err) == (2, "", in_process.err)
    assert in_process.code == 2 and through.err.count("\n") == 1
    assert through.err.startswith("error: ")


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "S-001", "--date", "2026-01-10"],
        ["plan", "S-001", "--date", "2026-01-10", "--json"],
        ["--help"],
        ["plan", "--help"],
    ],
)
def test_output_is_the_same_through_the_resident(enrolled_sqlite, resident, argv):
    command = [*argv, "--db", enrolled_sqlite, *INVESTIGATOR] if argv[-1] != "--help" else argv
    in_process = dosing(*command)
    through = dosing(*command, via=resident.socket)
    assert through.cpu < THROUGH_RESIDENT_CPU
    assert (through.code, through.out, through.err) == (
        in_process.code,
        in_process.out,
        in_process.err,
    )
    assert through.code == 0 and through.out


def test_a_command_runs_in_the_client_s_working_directory_and_environment(
    tmp_path, enrolled_sqlite, resident
):
    """Relative paths are the client's, and so are DOSING_* settings (here the database and the
    acting account): nothing of the resident's own start-up environment leaks in."""
    ran = dosing(
        "fhir",
        "S-001",
        "--out",
        "bundle.json",
        via=resident.socket,
        env={"DOSING_DATABASE_URL": enrolled_sqlite, "DOSING_USER": ACCOUNTS["investigator"]},
        cwd=tmp_path,
    )
    assert ran.code == 0, ran.err
    assert ran.cpu < THROUGH_RESIDENT_CPU
    assert json.loads((tmp_path / "bundle.json").read_text())["resourceType"] == "Bundle"


def test_the_socket_is_the_user_s_alone(resident):
    assert resident.socket.parent.stat().st_mode & 0o777 == 0o700
    assert resident.socket.stat().st_mode & 0o777 == 0o600


def test_no_fork_is_left_behind_after_many_commands(sqlite_url, resident):
    for n in range(12):
        argv = ["--help"] if n % 2 else ["plan", "NOBODY", "--db", sqlite_url, *INVESTIGATOR]
        ran = dosing(*argv, via=resident.socket)
        assert ran.code == (0 if n % 2 else 2) and ran.cpu < THROUGH_RESIDENT_CPU
    assert resident.forks() == []
    assert resident.process.poll() is None


def test_ctrl_c_reaches_the_command_in_the_resident(sqlite_url, resident):
    """The command (waiting for a password on stdin) gets the client's SIGINT and ends as it
    does in-process (Typer's status 130). Not forwarded, the client itself would be
    interrupted: a traceback, and the end by SIGINT."""
    client = subprocess.Popen(
        [DOSING, "user", "add", "x", "--role", "nurse", "--password-stdin", "--db", sqlite_url],
        env={**os.environ, entry.SOCKET_VARIABLE: str(resident.socket)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not resident.forks() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert resident.forks(), "the command never started in the resident"
    time.sleep(0.5)  # into the read of stdin
    client.send_signal(signal.SIGINT)
    _, err = client.communicate(timeout=30)
    assert (client.returncode, err) == (130, b"")
    assert resident.forks() == []


def _read_until(master: int, seen: bytearray, token: bytes, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while token not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                seen += os.read(master, 4096)
            except OSError:  # the terminal's last process has gone
                break
    return token in seen


@pytest.mark.parametrize("interrupted", [False, True])
def test_a_password_prompt_through_the_resident_does_not_echo(tmp_path, resident, interrupted):
    """`dosing user add` on a terminal: the password is typed with echo off (it never shows on
    the terminal), and the terminal is restored after, even after a Ctrl-C at the prompt."""
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    assert dosing("init", "--db", url).code == 0
    master, terminal = pty.openpty()
    password = "correct horse battery staple"
    client = subprocess.Popen(
        [DOSING, "user", "add", "boss", "--role", "admin", "--db", url],
        env={**os.environ, entry.SOCKET_VARIABLE: str(resident.socket)},
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # the client's own terminal
    )
    os.close(terminal)
    seen = bytearray()
    try:
        assert _read_until(master, seen, b"Password: "), seen
        assert resident.forks(), "the prompt does not come from the resident"
        assert not termios.tcgetattr(master)[3] & termios.ECHO
        if interrupted:
            client.send_signal(signal.SIGINT)
            assert client.wait(timeout=30) == 1  # Click's Abort, as in-process
        else:
            os.write(master, f"{password}\n".encode())
            assert _read_until(master, seen, b"Repeat for confirmation: "), seen
            assert not termios.tcgetattr(master)[3] & termios.ECHO
            os.write(master, f"{password}\n".encode())
            assert client.wait(timeout=30) == 0
            assert _read_until(master, seen, b"created boss (admin)"), seen
        assert termios.tcgetattr(master)[3] & termios.ECHO
    finally:
        client.kill()
        os.close(master)
    assert password.encode() not in seen


def test_a_resident_older_than_the_installed_code_stops_and_the_command_runs_in_process(
    tmp_path, enrolled_sqlite
):
    """An upgrade (here a copy of the code, one file touched) never runs old code: the resident
    answers "stale" and stops; the command runs in the client's own process and succeeds."""
    code = tmp_path / "code"
    for package in ("scheduler", "calendars"):
        shutil.copytree(
            SOURCE / package, code / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop(entry.SOCKET_VARIABLE, None)
    old = start_resident(tmp_path, env)
    dose = ["dose", "S-001", "--taken", "--db", enrolled_sqlite, *INVESTIGATOR, "--date"]
    try:
        first = dosing(*dose, "2026-01-05", via=old.socket, env={"PYTHONPATH": str(code)})
        assert first.code == 0 and first.cpu < THROUGH_RESIDENT_CPU, first.err
        upgraded = code / "scheduler" / "subjects" / "doses.py"
        os.utime(upgraded, ns=(time.time_ns(), time.time_ns() + 10**9))
        second = dosing(*dose, "2026-01-06", via=old.socket, env={"PYTHONPATH": str(code)})
        assert second.code == 0, second.err
        assert second.out == "recorded S-001 C1D2 2026-01-06 12 mg: taken\n"
        assert second.cpu > THROUGH_RESIDENT_CPU  # in its own process
        assert old.process.wait(timeout=60) == 0
    finally:
        old.process.kill()
    assert f"{upgraded} changed since it started" in old.log.read_text()
    assert not old.socket.exists()
    third = dosing(*dose, "2026-01-07", via=old.socket, env={"PYTHONPATH": str(code)})
    assert third.code == 0 and third.cpu > THROUGH_RESIDENT_CPU


@pytest.mark.parametrize(
    ("value", "argv"),
    [
        (None, ["--help"]),
        ("", ["--help"]),
        ("/nonexistent/resident.sock", ["init", "--help"]),
        ("/nonexistent/resident.sock", ["serve", "--help"]),
        ("/nonexistent/resident.sock", ["resident", "--help"]),
    ],
)
def test_without_a_socket_or_for_an_own_process_command_nothing_connects(
    monkeypatch, capsys, value, argv
):
    def no_socket(*_args, **_kwargs):
        raise AssertionError("the client tried to reach a resident")

    monkeypatch.setattr(socket, "socket", no_socket)
    if value is None:
        monkeypatch.delenv(entry.SOCKET_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(entry.SOCKET_VARIABLE, value)
    monkeypatch.setattr(sys, "argv", ["dosing", *argv])
    with pytest.raises(SystemExit) as exited:
        entry.main()
        raise SystemExit(0)
    assert exited.value.code in (0, None)
    assert "Usage: dosing" in capsys.readouterr().out


def test_the_client_imports_only_the_standard_library():
    script = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import scheduler.app.entry\n"
        "print(sorted(m for m in set(sys.modules) - before\n"
        "             if m.split('.')[0] not in sys.stdlib_module_names))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str(
        ["scheduler", "scheduler.app", "scheduler.app.entry", "scheduler.app.resident_wire"]
    )


@pytest.mark.skipif(
    os.getuid() != 0 or not os.access("/usr/bin/python3", os.X_OK),
    reason="needs root, to connect as another user, and a system python3 that user can run",
)
def test_a_connection_from_another_user_is_refused(tmp_path, resident):
    """With the socket's mode loosened by hand (a hard link in an open folder, mode 0666), the
    peer check still disconnects another user before anything is forked."""
    folder = Path(tempfile.mkdtemp())
    folder.chmod(0o755)
    link = folder / "resident.sock"
    os.link(resident.socket, link)
    link.chmod(0o666)
    script = (
        "import socket\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.settimeout(10)\n"
        f"s.connect({str(link)!r})\n"
        "print(repr(s.recv(5)))\n"
    )
    try:
        done = subprocess.run(
            ["/usr/bin/python3", "-c", script],
            user=65534,
            group=65534,
            capture_output=True,
            text=True,
            cwd="/",
        )
    finally:
        link.chmod(0o600)
        shutil.rmtree(folder)
    assert (done.returncode, done.stdout) == (0, "b''\n"), done.stderr
    assert resident.forks() == []
