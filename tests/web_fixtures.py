"""Web fixtures: an app on the test database with the demo trial loaded, seen as one staff role.

``staff_client(role)`` creates a staff user with that role and logs in through the login form,
as a browser would: pages get the session cookie, and every form post must carry the session's
CSRF token (``client.form(url, data)`` adds it). Requests under ``/api`` carry the user's bearer
token instead, since the API does not accept the cookie.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from scheduler.app.demo import seed_demo
from scheduler.app.web import create_app
from scheduler.kernel.sites import ensure_default_site
from scheduler.settings import Settings
from scheduler.staff.accounts import Staff, create_staff, issue_api_token

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class StaffClient(TestClient):
    """A logged-in member of staff."""

    staff: Staff
    token: str
    csrf_token: str

    def form(self, url: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        """POST a form the way the page would, with the session's CSRF token."""
        return self.post(url, data={**data, "csrf_token": self.csrf_token}, **kwargs)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def log_in(app: FastAPI, name: str, password: str = PASSWORD) -> StaffClient:
    client = StaffClient(app)
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf_of(form.text), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    client.csrf_token = csrf_of(client.get("/audit").text)
    return client


@pytest.fixture
def web_app(units, db_url, clock, settings) -> FastAPI:
    """The app on the test database with the demo trial loaded. ``db_url`` usually brings it
    already (copied from a seeded template, see tests/conftest.py), and then this seeds nothing:
    ``seed_demo`` skips a trial that is there."""
    with units() as unit:
        seed_demo(unit, ensure_default_site(unit, settings))
    return create_app(Settings(database_url=db_url, user="web"), clock)


@pytest.fixture
def staff_client(web_app, units) -> Callable[..., StaffClient]:
    """``staff_client(role="nurse")``: a test client logged in as a member of staff in that
    role (user name ``test-<role>``)."""
    made: dict[str, StaffClient] = {}

    def make(role: str = "nurse") -> StaffClient:
        if role in made:
            return made[role]
        name = f"test-{role}"
        with units("admin-setup") as unit:
            staff = create_staff(unit, name, role=role, password=PASSWORD)
            token = issue_api_token(unit, name, label="tests")
        client = log_in(web_app, name)
        client.staff, client.token = staff, token

        def bearer_for_api(request: httpx.Request) -> None:
            if request.url.path.startswith("/api"):
                request.headers["Authorization"] = f"Bearer {token}"

        client.event_hooks["request"].append(bearer_for_api)
        made[role] = client
        return client

    return make
