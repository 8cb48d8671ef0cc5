"""Reading protocol files. Errors name the file, the key path and the reason."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from scheduler.errors import ProtocolError
from scheduler.protocols.schema import KeyedValueError, Protocol


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "(top level)"


def _error_path(error: ErrorDetails) -> str:
    """The key path of a validation error, down to the key a table-level check names."""
    path = _key_path(tuple(error["loc"]))
    keyed = error.get("ctx", {}).get("error")
    if isinstance(keyed, KeyedValueError):
        return keyed.key if path == "(top level)" else f"{path}.{keyed.key}"
    return path


def parse_protocol(text: str, source: str) -> Protocol:
    """Validate protocol TOML text; ``source`` names it in errors (a file path, usually)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(source, "(syntax)", str(exc)) from exc
    try:
        return Protocol.model_validate(raw)
    except ValidationError as exc:
        # An unknown key first: a misspelt key also shows up as the real one missing.
        errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        reasons = "; ".join(f"{_error_path(e)}: {e['msg']}" for e in errors[1:])
        reason = first["msg"] + (f" (also {reasons})" if reasons else "")
        raise ProtocolError(source, _error_path(first), reason) from exc


def load_protocol(path: str | Path) -> Protocol:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProtocolError(str(path), "(file)", exc.strerror or str(exc)) from exc
    return parse_protocol(text, str(path))


def shipped_protocol_files() -> list[Path]:
    """The protocols that ship inside the package, loaded by ``dosing init``."""
    folder = resources.files("scheduler.protocols")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml"))
