"""JSON API of the worklist: what the nurses' page shows, for other systems."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from scheduler.web.api_types import ERRORS, Code, Day
from scheduler.web.deps import (
    UnitDep,
    WriteRoute,
)
from scheduler.worklist.items import worklist_json, worklists

router = APIRouter(prefix="/api", route_class=WriteRoute, responses=ERRORS, tags=["worklist"])


@router.get("/worklist")
def due(
    unit: UnitDep,
    site: Annotated[Code | None, Query(description="Site code")] = None,
    on: Annotated[
        Day | None, Query(alias="date", description="Default: today at each site")
    ] = None,
) -> dict[str, Any]:
    """The nurses' worklist: the same JSON as ``dosing due --json`` (``date``, ``sites``,
    ``items[]`` with ``subject``, ``kind``, ``visit_code``, ``target``, ``window_start``,
    ``window_end``, ...)."""
    return worklist_json(worklists(unit.session, unit.now, site_code=site, on=on))
