"""Whether the code `dosing resident` holds in memory is still the installed code.

An upgrade must never run old code: the resident notes, when it starts, the state of every file
of the ``scheduler`` and ``calendars`` packages (the code, and the protocol files, grading table
and catalogues it has read) and of the directories packages are installed into (an install or
upgrade of a library adds and removes entries there), and looks again at each connection
(some 300 stats, about a millisecond)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import calendars
import scheduler

FileState = tuple[int, int, int] | None
"""Modification time (ns), inode and size; an upgrade that keeps the time still replaces the
file (a new inode). None: the file is gone."""


def _state(path: str) -> FileState:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_ino, stat.st_size


def watched_paths() -> list[Path]:
    """The files of this installation's packages (bytecode caches aside: the interpreter writes
    them as it imports) and the directories libraries are installed into."""
    files = [
        path
        for package in (scheduler, calendars)
        for path in Path(package.__path__[0]).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    libraries = {
        Path(folder)
        for folder in sys.path
        if folder.endswith("-packages") and os.path.isdir(folder)
    }
    return files + sorted(libraries)


class Sources:
    """The watched paths as they were when the resident loaded its code."""

    def __init__(self, paths: list[Path]) -> None:
        self._loaded = {str(path): _state(str(path)) for path in paths}

    def changed(self) -> str | None:
        """The first watched path that is not as it was, or None."""
        for path, state in self._loaded.items():
            if _state(path) != state:
                return path
        return None
