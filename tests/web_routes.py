"""The app's POST routes as paths, for the tests that walk every form (CSRF, roles)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def post_paths(app: Any) -> set[str]:
    """Every POST path of the app, prefixes of included routers applied, parameters left as
    ``{name}``."""

    def walk(routes: Iterable[Any], prefix: str = "") -> Iterator[str]:
        for route in routes:
            if hasattr(route, "original_router"):  # an included router (FastAPI >= 0.120)
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif "POST" in getattr(route, "methods", ()):
                yield prefix + route.path

    return set(walk(app.router.routes))
