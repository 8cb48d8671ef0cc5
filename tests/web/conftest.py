"""Web fixtures: an app on the test database with the demo trial loaded, seen as one staff role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from scheduler.services.demo import seed_demo
from scheduler.services.sites import ensure_default_site
from scheduler.settings import Settings
from scheduler.web.app import create_app


@pytest.fixture
def staff_client(units, db_url, clock, settings) -> Callable[..., TestClient]:
    """``staff_client(role="nurse")``: a test client acting as a member of staff in that role."""
    with units() as unit:
        seed_demo(unit, ensure_default_site(unit, settings))
    app = create_app(Settings(database_url=db_url, user="web"), clock)

    def make(role: str = "nurse") -> TestClient:
        return TestClient(app)

    return make
