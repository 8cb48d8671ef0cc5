"""JSON API: the same data the CLI prints with --json."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from scheduler import core
from scheduler.services.subjects import subject_state
from scheduler.services.worklist import worklist
from scheduler.web.deps import UnitDep

router = APIRouter(prefix="/api")


@router.get("/subjects/{code}/plan")
def plan(code: str, unit: UnitDep) -> dict[str, Any]:
    return core.plan_to_dict(subject_state(unit.session, code, unit.now).plan())


@router.get("/worklist")
def due(unit: UnitDep, site: str | None = None) -> list[dict[str, Any]]:
    return [asdict(item) for item in worklist(unit.session, unit.now, site_code=site)]
