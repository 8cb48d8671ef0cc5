"""A serving process freezes its startup heap with the routes already built: the objects a first
request would otherwise create for FastAPI's routes would be scanned by every full collection."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from scheduler.app.web import create_app, freeze_startup_heap
from scheduler.settings import Settings


@pytest.fixture
def unfreeze() -> Iterator[None]:
    yield
    gc.unfreeze()


def _new_objects_of_a_first_login_page(app) -> int:
    gc.collect()
    before = len(gc.get_objects())
    assert TestClient(app).get("/login").status_code == 200
    gc.collect()
    return len(gc.get_objects()) - before


def test_the_routes_are_built_before_the_heap_is_frozen(sqlite_url, unfreeze):
    settings = Settings(database_url=sqlite_url, scheduler_enabled=False)
    unbuilt = create_app(settings)
    freeze_startup_heap()
    lazily = _new_objects_of_a_first_login_page(unbuilt)
    gc.unfreeze()
    built = create_app(settings)
    freeze_startup_heap(built)
    assert lazily > 10_000
    assert _new_objects_of_a_first_login_page(built) < lazily / 5
