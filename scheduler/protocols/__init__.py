"""Protocols are data: a TOML file per regimen, validated by ``schema`` and read by ``loader``."""

from scheduler.protocols.loader import load_protocol, parse_protocol, shipped_protocol_files
from scheduler.protocols.schema import Protocol

DEFAULT_PROTOCOL_ID = "NCT03945799"

__all__ = [
    "DEFAULT_PROTOCOL_ID",
    "Protocol",
    "load_protocol",
    "parse_protocol",
    "shipped_protocol_files",
]
