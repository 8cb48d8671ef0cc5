"""Protocol versions in the database: loading shipped files and reading a subject's version."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from scheduler.errors import NotFound, ProtocolError
from scheduler.models import ProtocolVersion
from scheduler.protocols import Protocol, parse_protocol, shipped_protocol_files

if TYPE_CHECKING:
    from scheduler.kernel.unit import Unit


@lru_cache(maxsize=64)
def _parsed(sha256: str, source: str, name: str) -> Protocol:
    return parse_protocol(source, name)


def protocol_of(version: ProtocolVersion) -> Protocol:
    """The validated protocol of a stored version (parsed once per process)."""
    return _parsed(version.sha256, version.source, f"{version.protocol_id} v{version.version}")


def preload_shipped_protocols() -> None:
    """Parse the shipped protocols as ``protocol_of`` parses their stored versions (same text,
    same key): `dosing resident` does it once for all the commands it forks, not each command."""
    for path in shipped_protocol_files():
        source, protocol, sha = _read_protocol_file(path)
        _parsed(sha, source, f"{protocol.id} v{protocol.version}")


def _read_protocol_file(path: Path) -> tuple[str, Protocol, str]:
    """A protocol file's text, its validated protocol and the SHA-256 a version is stored with."""
    source = path.read_text(encoding="utf-8")
    return source, parse_protocol(source, str(path)), hashlib.sha256(source.encode()).hexdigest()


def load_protocol_file(unit: Unit, path: Path) -> ProtocolVersion:
    """Store a protocol file as a version; the same text again is a no-op.

    Changed text under an existing version number is refused: an amendment must carry a new
    version, or subjects already enrolled would silently get a different plan.
    """
    source, protocol, sha = _read_protocol_file(path)
    existing = unit.session.exec(
        select(ProtocolVersion).where(
            ProtocolVersion.protocol_id == protocol.id, ProtocolVersion.version == protocol.version
        )
    ).first()
    if existing is not None:
        if existing.sha256 != sha:
            raise ProtocolError(
                str(path),
                "version",
                f"{protocol.id} version {protocol.version} is already loaded with different "
                "content; give the amended protocol a new version",
            )
        return existing
    row = ProtocolVersion(
        protocol_id=protocol.id,
        version=protocol.version,
        sha256=sha,
        source=source,
        loaded_at=unit.now,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.audit(
        "protocol.load",
        entity="protocol_version",
        entity_id=row.id,
        new={"protocol": protocol.id, "version": protocol.version, "sha256": sha},
    )
    return row


def load_shipped_protocols(unit: Unit) -> list[ProtocolVersion]:
    return [load_protocol_file(unit, path) for path in shipped_protocol_files()]


def latest_version(session: Session, protocol_id: str) -> ProtocolVersion:
    row = session.exec(
        select(ProtocolVersion)
        .where(ProtocolVersion.protocol_id == protocol_id)
        .order_by(col(ProtocolVersion.id).desc())
    ).first()
    if row is None:
        known = sorted(set(session.exec(select(ProtocolVersion.protocol_id)).all()))
        raise NotFound(
            "protocol", f"no protocol {protocol_id!r} is loaded (loaded: {', '.join(known)})"
        )
    return row
