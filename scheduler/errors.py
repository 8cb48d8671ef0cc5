"""One error hierarchy, rendered the same way by the CLI and the web API.

Every error a person can cause by typing something wrong is an ``InputError``: it names the
field and the reason, and the CLI exits with status 2 for it. Anything else is a bug or an
outage and exits with status 1.
"""

from __future__ import annotations


class SchedulerError(Exception):
    """Base of every error this project raises on purpose."""


class InputError(SchedulerError):
    """Raised when a value a person supplied is malformed or impossible.

    ``field`` is the name the person used (a CLI option, a JSON key); ``reason`` says what
    was expected and what was received.
    """

    http_status = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(InputError):
    """Raised when a subject, site, protocol, visit code or record does not exist."""

    http_status = 404


class Conflict(InputError):
    """Raised when the request clashes with what is already recorded (a duplicate subject,
    a dose recorded twice without a correction reason)."""

    http_status = 409


class WriteConflict(Conflict):
    """Raised when the database refused a commit because another writer changed the same data
    at the same moment (a serialization failure, a deadlock, a lock wait that timed out):
    nothing was stored, and trying again may succeed."""


class RuleViolation(InputError):
    """Raised when a request is well-formed but breaks a protocol rule (a dose during a hold,
    a re-escalation, a resume without a hold)."""

    http_status = 409


class StorageUnavailable(SchedulerError):
    """Raised when the database could not store a change for a reason the caller cannot fix
    (the server went away, the disk is full): nothing was stored. HTTP 503, CLI exit 1."""

    http_status = 503


class ProtocolError(SchedulerError):
    """Raised when a protocol file cannot be loaded: names the file, the key path and why."""

    def __init__(self, source: str, key_path: str, reason: str) -> None:
        super().__init__(f"{source}: {key_path}: {reason}")
        self.source = source
        self.key_path = key_path
        self.reason = reason
