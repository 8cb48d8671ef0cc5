"""`dosing resident`: a process that has imported every command runs each command the ``dosing``
client sends it in a fork of itself, so that a command does not pay a second of CPU for
importing SQLModel and the tables (docs/resident.md). It opens no database connection: each
fork opens its own, from the client's settings."""

from __future__ import annotations

import gc
import importlib
import os
import select
import signal
import socket
import stat
import struct
import sys
from contextlib import suppress
from pathlib import Path
from typing import Annotated

import typer

from scheduler.app.bootstrap import bootstrap
from scheduler.app.cli import COMMANDS
from scheduler.app.entry import IN_PROCESS
from scheduler.app.resident_child import run_for_client
from scheduler.app.resident_sources import Sources, watched_paths
from scheduler.app.resident_wire import STALE, STARTED, STATUS, answer
from scheduler.errors import InputError
from scheduler.kernel.protocol_versions import preload_shipped_protocols
from scheduler.labs.units import load_unit_registry
from scheduler.protocols.grading_table import ctcae_v5
from scheduler.settings import get_settings

_PEER_CREDENTIALS = struct.Struct("3i")
"""SO_PEERCRED's ``struct ucred``: pid, uid, gid."""
_STOPPING_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def resident(
    socket_path: Annotated[
        Path | None,
        typer.Option(
            "--socket",
            help="The Unix socket to listen on (default: DOSING_RESIDENT_SOCKET)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Keep the commands loaded and run each `dosing` command in a fork of this process.

    Clients find it through DOSING_RESIDENT_SOCKET. It stops by itself, after the commands
    running, when the installed code changes; until it is started again, commands run in
    their own process."""
    path = socket_path or get_settings().resident_socket
    if path is None:
        raise InputError("socket", "name the socket with --socket PATH or DOSING_RESIDENT_SOCKET")
    path = path.absolute()
    _preload()
    sources = Sources(watched_paths())
    listener = _listen(path)
    typer.echo(f"dosing resident: listening on {path} (pid {os.getpid()})", err=True)
    reason = _Resident(listener, path, sources).serve()
    typer.echo(f"dosing resident: {reason}", err=True)


def _preload() -> None:
    """Import every command that may run here and fill the caches each fills on first use, so a
    fork pays only for its own work; then move it all out of the collector's reach, or a fork's
    first full collection would scan (and copy, page by page) the whole inherited heap."""
    for name, (module, _, _) in COMMANDS.items():
        if name not in IN_PROCESS:
            importlib.import_module(module)
    bootstrap()
    preload_shipped_protocols()
    ctcae_v5()
    load_unit_registry()
    gc.collect()
    gc.freeze()


def _listen(path: Path) -> socket.socket:
    """The listening socket. Only this user can reach it: its folder is made 0700 when missing,
    the socket is 0600 from its creation, and each connection's peer is checked besides."""
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True)
    _remove_dead_socket(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(umask)
    listener.listen(128)
    return listener


def _remove_dead_socket(path: Path) -> None:
    """Remove the socket file of a resident that ended without removing it (killed); never take
    over a live one, nor remove what is not a socket."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise InputError("socket", f"{path} exists and is not a socket")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except ConnectionRefusedError:
            path.unlink()
            return
    raise InputError("socket", f"a resident already listens on {path}")


def _inode(path: Path) -> int | None:
    try:
        return path.lstat().st_ino
    except FileNotFoundError:
        return None


def _peer_uid(conn: socket.socket) -> int:
    credentials = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER_CREDENTIALS.size)
    return int(_PEER_CREDENTIALS.unpack(credentials)[1])


def _note_signal(_signum: int, _frame: object) -> None:
    """SIGCHLD's handler: the wakeup descriptor is what wakes the loop. (SIG_IGN would make the
    kernel reap the forks itself, and their exit statuses would be lost.)"""


class _Resident:
    """Accepts, forks, reaps. A client's connection stays open here until its fork ends, to
    send it the exit status ``waitpid`` gives, however the fork ended."""

    def __init__(self, listener: socket.socket, path: Path, sources: Sources) -> None:
        self.listener = listener
        self.listener_fd = listener.fileno()
        self.path = path
        self.socket_inode = _inode(path)
        self.sources = sources
        self.forks: dict[int, socket.socket] = {}
        """Each running fork's pid and its client's connection."""
        self.poller = select.poll()
        self.signalled: int | None = None
        self.stopped: str | None = None

    def serve(self) -> str:
        """Run until stopped (a signal, or the installed code changed) and every fork has
        ended; say why it stopped."""
        wake_read, wake_write = socket.socketpair()
        wake_read.setblocking(False)
        wake_write.setblocking(False)
        signal.set_wakeup_fd(wake_write.fileno())
        signal.signal(signal.SIGCHLD, _note_signal)
        for signum in _STOPPING_SIGNALS:
            signal.signal(signum, self._on_stopping_signal)
        self.poller.register(self.listener_fd, select.POLLIN)
        self.poller.register(wake_read, select.POLLIN)
        own = [self.listener, wake_read, wake_write]
        while self.stopped is None or self.forks:
            for fd, _ in self.poller.poll():
                if fd == wake_read.fileno():
                    with suppress(BlockingIOError):
                        while wake_read.recv(512):
                            pass
                elif fd == self.listener_fd:
                    self._accept(own)
                else:
                    self._client_gone(fd)
            if self.signalled is not None and self.stopped is None:
                self._stop(f"stopped by {signal.Signals(self.signalled).name}")
            self._reap()
        return self.stopped

    def _on_stopping_signal(self, signum: int, _frame: object) -> None:
        self.signalled = signum  # acted on by the loop, never in the middle of an accept

    def _accept(self, own: list[socket.socket]) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return  # the client went away while queued
        conn.setblocking(True)
        if _peer_uid(conn) != os.getuid():
            conn.close()
            return
        changed = self.sources.changed()
        if changed is not None:
            with suppress(OSError):
                conn.sendall(STALE)
            conn.close()
            self._stop(f"{changed} changed since it started: stopping, so no command runs old code")
            return
        # Nothing this process has buffered may reach the client's descriptors in the fork.
        sys.stdout.flush()
        sys.stderr.flush()
        others = list(self.forks.values())
        pid = os.fork()
        if pid == 0:
            run_for_client(conn, own + others)
        self.forks[pid] = conn
        self.poller.register(conn, select.POLLRDHUP)
        with suppress(OSError):
            conn.sendall(answer(STARTED, pid))

    def _client_gone(self, fd: int) -> None:
        """The client closed its end before its command ended (killed, or its terminal gone):
        hang its fork up, as closing the terminal would hang up a command in-process."""
        self.poller.unregister(fd)
        for pid, conn in self.forks.items():
            if conn.fileno() == fd:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGHUP)

    def _reap(self) -> None:
        while self.forks:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.forks.pop(pid)
            with suppress(KeyError):
                self.poller.unregister(conn)
            with suppress(OSError):
                conn.sendall(answer(STATUS, os.waitstatus_to_exitcode(wait_status)))
            conn.close()

    def _stop(self, reason: str) -> None:
        """Accept no more connections: clients now find no resident and run commands in their
        own process. Forks already running finish and get their statuses."""
        self.stopped = reason
        self.poller.unregister(self.listener_fd)
        self.listener.close()
        if _inode(self.path) == self.socket_inode:  # not a successor's socket
            self.path.unlink()
