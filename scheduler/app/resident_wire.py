"""What the ``dosing`` command and `dosing resident` say to each other on the Unix socket.

The client imports this module for every command before it knows whether the resident will run
it, so it uses only the standard library modules the interpreter has loaded anyway (os,
socket). The exchange, one connection per command:

- client: the request, its header carrying the client's stdin, stdout, stderr and working
  directory as file descriptors (SCM_RIGHTS);
- resident: ``STALE`` (its code is older than the installed code: nothing runs, the client
  runs the command itself), or ``STARTED`` and the pid of the fork that will run it;
- client: ``GO`` once it forwards its signals to that pid (the fork waits for it, so a client
  that gave up waiting can still run the command itself without it running twice);
- resident: ``STATUS`` and the fork's exit status, negative for the signal that ended it.
"""

from __future__ import annotations

import os
import socket

VERSION = b"dosing-resident/1"
STALE = b"S"
STARTED = b"P"
GO = b"G"
STATUS = b"X"
ANSWER_SIZE = 5
"""A one-byte answer and a 4-byte number (``STARTED`` and ``STATUS``; ``STALE`` is alone)."""
PASSED_FDS = 4
"""stdin, stdout, stderr and the working directory (an fd: no path to resolve again)."""
_HEADER_SIZE = 8


def answer(kind: bytes, number: int) -> bytes:
    return kind + number.to_bytes(4, "big", signed=True)


def number_of(answer: bytes) -> int:
    return int.from_bytes(answer[1:ANSWER_SIZE], "big", signed=True)


def receive_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes, or fewer if the other end closed first."""
    chunks = []
    while size > 0:
        chunk = sock.recv(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class Stream:
    """How the client's interpreter wraps one of its standard streams, so that the fork writes
    the same bytes with the same buffering (the encoding follows the client's locale and
    PYTHONIOENCODING, not the resident's)."""

    __slots__ = ("encoding", "errors", "line_buffering", "write_through")

    def __init__(
        self, encoding: str, errors: str, line_buffering: bool, write_through: bool
    ) -> None:
        self.encoding = encoding
        self.errors = errors
        self.line_buffering = line_buffering
        self.write_through = write_through

    @classmethod
    def of(cls, stream: object) -> Stream:
        return cls(
            getattr(stream, "encoding", "utf-8"),
            getattr(stream, "errors", "strict"),
            bool(getattr(stream, "line_buffering", False)),
            bool(getattr(stream, "write_through", False)),
        )

    def encode(self) -> bytes:
        flags = f"{int(self.line_buffering)} {int(self.write_through)}"
        return f"{self.encoding} {self.errors} {flags}".encode("ascii")

    @classmethod
    def decode(cls, field: bytes) -> Stream:
        encoding, errors, line_buffering, write_through = field.decode("ascii").split(" ")
        return cls(encoding, errors, line_buffering == "1", write_through == "1")


class Request:
    """The command as the client would have run it: argv (argv[0] included), environment and
    umask, and how its standard streams are wrapped. Fields are NUL-separated: no argument or
    environment entry can hold a NUL."""

    __slots__ = ("argv", "environ", "streams", "umask")

    def __init__(
        self, argv: list[bytes], environ: dict[bytes, bytes], umask: int, streams: list[Stream]
    ) -> None:
        self.argv = argv
        self.environ = environ
        self.umask = umask
        self.streams = streams

    def encode(self) -> bytes:
        fields = [
            VERSION,
            b"%d" % self.umask,
            *(stream.encode() for stream in self.streams),
            b"%d" % len(self.argv),
            *self.argv,
            *(key + b"=" + value for key, value in self.environ.items()),
        ]
        return b"\0".join(fields)

    @classmethod
    def decode(cls, payload: bytes) -> Request:
        fields = payload.split(b"\0")
        if fields[0] != VERSION:
            raise ValueError(f"not a request of {VERSION.decode()}: {fields[0]!r}")
        umask = int(fields[1])
        streams = [Stream.decode(field) for field in fields[2:5]]
        argc = int(fields[5])
        argv = fields[6 : 6 + argc]
        environ = dict(entry.partition(b"=")[::2] for entry in fields[6 + argc :])
        return cls(argv, environ, umask, streams)


def send_request(sock: socket.socket, request: Request, fds: list[int]) -> None:
    payload = request.encode()
    socket.send_fds(sock, [len(payload).to_bytes(_HEADER_SIZE, "big")], fds)
    sock.sendall(payload)


def receive_request(sock: socket.socket) -> tuple[Request, list[int]] | None:
    """The request and the descriptors that came with it (the caller owns and closes them);
    None when the client closed without sending one (a resident starting checks so whether
    another one listens)."""
    header, fds, flags, _ = socket.recv_fds(sock, _HEADER_SIZE, PASSED_FDS)
    if not header and not fds:
        return None
    if flags & socket.MSG_CTRUNC or len(fds) != PASSED_FDS:
        for fd in fds:
            os.close(fd)
        raise ValueError(f"a request comes with {PASSED_FDS} descriptors")
    header += receive_exactly(sock, _HEADER_SIZE - len(header))
    size = int.from_bytes(header, "big")
    payload = receive_exactly(sock, size)
    if len(payload) != size:
        for fd in fds:
            os.close(fd)
        raise ValueError("the client closed the connection before the end of its request")
    return Request.decode(payload), fds
