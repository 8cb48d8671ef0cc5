"""A fork of `dosing resident` becoming the client's command: the client's descriptors, working
directory, environment and umask, the command's settings read afresh, then the same ``main``
as in-process. It ends with ``os._exit``: unwinding would run the resident's own clean-up (the
socket file removed) in the fork."""

from __future__ import annotations

import fcntl
import io
import os
import signal
import socket
import sys
import time
import traceback
from typing import NoReturn, TextIO

from scheduler.app.cli import main
from scheduler.app.resident_wire import GO, Request, Stream, receive_exactly, receive_request
from scheduler.db import forget_engines
from scheduler.reminders.dispatch import outbox_engine
from scheduler.settings import get_settings

_FLUSH_FAILED = 120
"""Python's exit status when flushing stdout or stderr at exit fails (a closed pipe)."""


def run_for_client(conn: socket.socket, inherited: list[socket.socket]) -> NoReturn:
    """Run the command the client on ``conn`` sends and exit with its status; ``inherited`` are
    the resident's sockets this fork must not keep (the listener, other clients' connections:
    a client must see its connection close when the resident's end of it does)."""
    status = 1
    try:
        _leave_resident(inherited)
        received = receive_request(conn)
        if received is None or receive_exactly(conn, 1) != GO:
            os._exit(0)  # a probe, or a client that gave up waiting: it runs the command itself
        conn.close()
        request, fds = received
        _become(request, fds)
        status = _run([os.fsdecode(arg) for arg in request.argv[1:]])
    except KeyboardInterrupt:
        # A Ctrl-C forwarded before the command began (Typer turns one inside it into status
        # 130): end as Python does on an uncaught KeyboardInterrupt, by SIGINT.
        traceback.print_exc()
        _flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:
        traceback.print_exc()
    if not _flush():
        status = _FLUSH_FAILED
    os._exit(status)


def _leave_resident(inherited: list[socket.socket]) -> None:
    # A session of its own, so no controlling terminal: getpass cannot open /dev/tty (the
    # resident's terminal, if it was started from one) and prompts on the client's stdin and
    # stderr, with echo off on the client's terminal.
    os.setsid()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    for resident_socket in inherited:
        resident_socket.close()


def _become(request: Request, fds: list[int]) -> None:
    """Take on the client's process state, as far as it shapes what a command does."""
    # Every received descriptor above 2 first, so that no dup2 onto 0, 1 or 2 overwrites one.
    fds = [fd if fd > 2 else fcntl.fcntl(fd, fcntl.F_DUPFD, 3) for fd in fds]
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
    os.fchdir(fds[3])
    for fd in fds:
        os.close(fd)
    os.umask(request.umask)
    os.environ.clear()
    for key, value in request.environ.items():
        os.environb[key] = value
    time.tzset()
    sys.argv = [os.fsdecode(arg) for arg in request.argv]
    stdin, stdout, stderr = request.streams
    sys.stdin = _text_stream(0, stdin, reading=True)
    sys.stdout = _text_stream(1, stdout, reading=False)
    sys.stderr = _text_stream(2, stderr, reading=False)
    # Settings come from the client's environment; engines (none are made in the resident, and
    # a pooled connection must never be shared across a fork) from the settings.
    get_settings.cache_clear()
    forget_engines()
    outbox_engine.cache_clear()


def _text_stream(fd: int, how: Stream, *, reading: bool) -> TextIO:
    """A standard stream as the interpreter makes one at start-up, wrapped as the client's is:
    unbuffered (-u, PYTHONUNBUFFERED), it writes through to the descriptor with no buffer."""
    raw = io.FileIO(fd, "r" if reading else "w", closefd=False)
    raw.name = f"<{('stdin', 'stdout', 'stderr')[fd]}>"
    if reading:
        buffer: io.FileIO | io.BufferedReader | io.BufferedWriter = io.BufferedReader(raw)
    elif how.write_through:
        buffer = raw
    else:
        buffer = io.BufferedWriter(raw)
    return io.TextIOWrapper(
        buffer,
        encoding=how.encoding,
        errors=how.errors,
        newline="\n",
        line_buffering=how.line_buffering,
        write_through=how.write_through,
    )


def _run(argv: list[str]) -> int:
    """The exit status of ``main(argv)``, as the interpreter makes one of its SystemExit."""
    try:
        main(argv)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    return 0


def _flush() -> bool:
    flushed = True
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            flushed = False
    return flushed
