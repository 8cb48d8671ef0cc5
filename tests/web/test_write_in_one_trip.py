"""A write through the JSON API runs its unit of work in one trip to the thread pool: opened,
operated and committed on one worker, after the account and its sites were read with the
token. On SQLite the unit holds the database's one write lock from its first statement to its
commit, so nothing of the request's own handling (the event loop, other trips) waits inside it.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from scheduler.models import Site
from scheduler.staff.accounts import create_staff, issue_api_token, set_sites

_trip = threading.local()


@contextmanager
def trips(monkeypatch: pytest.MonkeyPatch, engine: Any) -> Iterator[dict[str, list[Any]]]:
    """Numbers each trip to the thread pool and notes in which trip each statement of a write
    transaction ran and each commit was made."""
    seen: dict[str, list[Any]] = {"trips": [], "writes": [], "commits": []}
    run_sync = anyio.to_thread.run_sync

    async def numbered(func: Any, *args: Any, **kwargs: Any) -> Any:
        number = len(seen["trips"])
        seen["trips"].append(getattr(func, "__name__", repr(func)))

        def in_trip(*inner: Any) -> Any:
            _trip.number = number
            try:
                return func(*inner)
            finally:
                _trip.number = None

        return await run_sync(in_trip, *args, **kwargs)

    def statement(conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if conn.get_execution_options().get("write_transaction"):
            seen["writes"].append((getattr(_trip, "number", None), sql))

    def commit(conn: Any) -> None:
        if conn.get_execution_options().get("write_transaction"):
            seen["commits"].append(getattr(_trip, "number", None))

    monkeypatch.setattr(anyio.to_thread, "run_sync", numbered)
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def _noted(web_app: Any, token: str) -> TestClient:
    """A client whose token's use is noted already: the next minute's calls write nothing for
    it (``TOKEN_USE_RESOLUTION``)."""
    api = TestClient(web_app, headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/subjects/DEMO-002/plan").status_code == 200
    return api


def test_a_dose_is_opened_recorded_and_committed_in_one_trip(web_app, staff_client, monkeypatch):
    api = _noted(web_app, staff_client("nurse").token)
    with trips(monkeypatch, web_app.state.engine) as seen:
        answer = api.post(
            "/api/subjects/DEMO-002/doses", json={"date": "2026-03-01", "taken": True}
        )
    assert answer.status_code == 201, answer.text
    # the token (with the account's sites), then the unit: two trips, where FastAPI's own
    # handling of a unit dependency made six
    assert len(seen["trips"]) == 2, seen["trips"]
    unit_trip = {number for number, _ in seen["writes"]}
    assert unit_trip == {1} and seen["commits"] == [1]
    # the account's sites were read with the token, not inside the write transaction
    assert not any("staffsite" in sql.lower() for _, sql in seen["writes"])


def test_a_refused_write_stores_nothing_and_opens_no_second_unit(
    web_app, staff_client, monkeypatch
):
    api = _noted(web_app, staff_client("nurse").token)
    with trips(monkeypatch, web_app.state.engine) as seen:
        answer = api.post(
            "/api/subjects/NOBODY-1/doses", json={"date": "2026-03-01", "taken": True}
        )
    assert answer.status_code == 404
    assert seen["commits"] == [] and len(seen["trips"]) == 2


def test_sites_given_to_a_token_s_account_bind_its_next_request(web_app, units):
    """The sites are read with the token at every request, as the role is: an account bound to
    another site meanwhile is refused the subject at its very next call."""
    with units("admin-setup") as unit:
        unit.session.add(Site(code="SITE-B", name="Site B", time_zone="Asia/Shanghai"))
        unit.session.flush()
        create_staff(unit, "li.na", role="nurse", password="a long enough password")
        token = issue_api_token(unit, "li.na")
    api = TestClient(web_app, headers={"Authorization": f"Bearer {token}"})
    dose = {"date": "2026-03-01", "taken": True}
    assert api.post("/api/subjects/DEMO-002/doses", json=dose).status_code == 201
    with units("admin-setup") as unit:
        set_sites(unit, "li.na", ["SITE-B"], reason="moved to site B")
    refused = api.post("/api/subjects/DEMO-002/doses", json={**dose, "date": "2026-02-28"})
    assert refused.status_code == 404
    assert refused.json()["error"] == {"field": "subject", "reason": "no subject 'DEMO-002'"}
