"""Running ``dosing`` in-process the way a script would, for the CLI tests."""

from __future__ import annotations

import pytest

from scheduler.app.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``dosing *argv`` (``main`` always exits)."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err
