"""The ``dosing`` command. With DOSING_RESIDENT_SOCKET set and `dosing resident` listening there,
the command runs in a fork of the resident, which has imported everything already; otherwise
(unset, nobody listening, a resident older than the installed code) it runs in this process,
exactly as without a resident. Output and exit status are the same either way.

Until it knows which, this module imports nothing beyond the standard library: importing
SQLModel and the tables costs about a second of CPU, the start-up the resident exists to save
(docs/resident.md)."""

from __future__ import annotations

import os
import signal
import socket
import sys

from scheduler.app.resident_wire import (
    ANSWER_SIZE,
    GO,
    STARTED,
    STATUS,
    Request,
    Stream,
    number_of,
    receive_exactly,
    send_request,
)

SOCKET_VARIABLE = "DOSING_RESIDENT_SOCKET"
IN_PROCESS = frozenset({"serve", "worker", "resident", "demo", "init", "restore", "backup"})
"""Commands that always run in their own process. `serve`, `worker` and `resident` run for
days, with threads and signal handlers of their own: a fork of the resident would be pinned to
the code it was forked from. `init`, `demo`, `backup` and `restore` set up, copy or replace a
whole database: rare, seconds to minutes long (Alembic, pg_dump), so start-up is not what
they cost, and a schema upgrade runs in a process of its own."""
ANSWER_SECONDS = 10.0
"""How long the client waits for the resident to start a command before running it itself:
nothing runs in the resident until the client says GO, so giving up never runs it twice."""
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""What a terminal or a supervisor sends the command: the client passes them on to the fork
running it, which then ends as the command would have in-process."""


def main() -> None:
    argv = sys.argv[1:]
    path = os.environ.get(SOCKET_VARIABLE, "")
    if path and _may_run_in_resident(argv):
        status = _through_resident(path, argv)
        if status is not None:
            sys.exit(_exit_status(status))
    from scheduler.app.cli import main as run_in_process

    run_in_process(argv)


def _may_run_in_resident(argv: list[str]) -> bool:
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command in IN_PROCESS:
        return False
    prompts = command == "sign" or (
        command == "user" and "add" in argv and "--password-stdin" not in argv
    )
    if prompts:
        # In the resident's fork, which has no controlling terminal, getpass prompts on stderr
        # and turns echo off on stdin; in-process it uses /dev/tty. The two are the same only
        # when stdin and stderr are that terminal.
        return os.isatty(0) and os.isatty(2)
    return True


def _through_resident(path: str, argv: list[str]) -> int | None:
    """The command's exit status, run by the resident; None when it did not run there."""
    if sys.stdin is None or sys.stdout is None or sys.stderr is None:
        return None  # a closed standard descriptor: nothing to pass on
    request = Request(
        argv=[os.fsencode(arg) for arg in [sys.argv[0], *argv]],
        environ=dict(os.environb),
        umask=_umask(),
        streams=[Stream.of(stream) for stream in (sys.stdin, sys.stdout, sys.stderr)],
    )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.settimeout(ANSWER_SECONDS)
            sock.connect(path)
            cwd = os.open(".", getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY)
            try:
                send_request(sock, request, [0, 1, 2, cwd])
            finally:
                os.close(cwd)
            started = receive_exactly(sock, ANSWER_SIZE)
            if len(started) != ANSWER_SIZE or started[:1] != STARTED:
                return None  # stale, or a refusal: nothing has run
            _forward_signals(number_of(started))
            sock.settimeout(None)
            sock.sendall(GO)
        except OSError:
            return None  # no resident there, or it went away before running anything
        try:
            ended = receive_exactly(sock, ANSWER_SIZE)
        except OSError:
            ended = b""
    if len(ended) != ANSWER_SIZE or ended[:1] != STATUS:
        sys.stderr.write(
            "error: the resident stopped while running the command; whether it did its work "
            "is unknown: look before running it again\n"
        )
        return 1
    return number_of(ended)


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _forward_signals(pid: int) -> None:
    """Pass the signals a command would get on to the fork running it. Through a pidfd where the
    system has them: the fork is alive now (it waits for GO), and a pidfd can never reach
    another process that reuses its pid once it has ended."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1

    def forward(signum: int, _frame: object) -> None:
        try:
            if pidfd >= 0:
                signal.pidfd_send_signal(pidfd, signum)
            else:
                os.kill(pid, signum)
        except ProcessLookupError:
            pass  # it has just ended; its status is on its way

    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, forward)


def _exit_status(status: int) -> int:
    if status < 0:  # ended by a signal: end by the same one, as the command would have
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        return 128 - status  # a signal that does not end a process (none of those forwarded)
    return status
