"""Fixtures for reading feeds back with independent calendar software (see ical_consumers)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ical_consumers import (
    ICALJS_DIR,
    FeedConsumers,
    icaljs_available,
    install_icaljs,
    serve_feeds,
)


@pytest.fixture(scope="session")
def icaljs() -> None:
    """ical.js installed from the npm registry (npm ci, once per checkout); skipped, with the
    reason, only where node or npm is missing, and failed there instead when
    DOSING_REQUIRE_NODE is set (.ci/run sets it, so CI never loses a consumer silently)."""
    missing = icaljs_available()
    if missing:
        hint = f"ical.js consumer needs node and npm: {missing} (apt-get install nodejs npm)"
        if os.environ.get("DOSING_REQUIRE_NODE"):
            pytest.fail(hint)
        pytest.skip(hint)
    # One npm ci at a time: xdist workers may both find node_modules missing.
    checkout = hashlib.sha256(bytes(ICALJS_DIR)).hexdigest()[:12]
    with (Path(tempfile.gettempdir()) / f"icaljs-{checkout}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        install_icaljs()


@pytest.fixture(scope="session")
def feed_consumers(
    icaljs: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FeedConsumers]:
    """icalendar, ical.js and vdirsyncer + khal, with a loopback server for khal's URLs."""
    with serve_feeds() as server:
        yield FeedConsumers(server=server, workdir=tmp_path_factory.mktemp("khal"))
