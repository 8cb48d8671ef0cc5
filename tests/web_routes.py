"""The app's routes as paths, for the tests that walk every form (CSRF, roles) and every page
(site boundaries)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def paths_of(app: Any, method: str) -> set[str]:
    """Every path of the app served for ``method``, prefixes of included routers applied,
    parameters left as ``{name}``."""

    def walk(routes: Iterable[Any], prefix: str = "") -> Iterator[str]:
        for route in routes:
            if hasattr(route, "original_router"):  # an included router (FastAPI >= 0.120)
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif method in (getattr(route, "methods", None) or ()):
                yield prefix + route.path

    return set(walk(app.router.routes))


def post_paths(app: Any) -> set[str]:
    """Every POST path of the app."""
    return paths_of(app, "POST")
