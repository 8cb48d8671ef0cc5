"""A serving process freezes its startup heap with the routes already built (the objects a first
request would otherwise create for FastAPI's routes would be scanned by every full collection),
and collects its young objects less often than Python's default."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from scheduler.app.web import YOUNG_COLLECTION, create_app, freeze_startup_heap
from scheduler.settings import Settings


@pytest.fixture
def unfreeze() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


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


def test_a_serving_process_collects_young_objects_less_often(sqlite_url, unfreeze):
    """A page's own objects die when it is answered; collected every 700 allocations they
    were promoted mid-request and brought a full collection every few pages."""
    gc.set_threshold(700, 10, 10)
    freeze_startup_heap(create_app(Settings(database_url=sqlite_url, scheduler_enabled=False)))
    assert gc.get_threshold() == (YOUNG_COLLECTION, 10, 10)
