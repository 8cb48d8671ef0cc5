"""Signatures in the JSON API, read-only: a subject's signatures and the decisions awaiting
one. Signing needs the password typed by the person (the page or `dosing sign`), never a
bearer token alone."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from scheduler.signatures.services import awaiting_signature, signatures_of
from scheduler.web.api_types import ERRORS
from scheduler.web.deps import CurrentStaff, SubjectCode, UnitDep, WriteRoute

router = APIRouter(prefix="/api", route_class=WriteRoute, tags=["signatures"], responses=ERRORS)


@router.get("/subjects/{code}/signatures")
def get_signatures(code: SubjectCode, _staff: CurrentStaff, unit: UnitDep) -> dict[str, Any]:
    """The subject's signatures (with whether each still matches its record) and the
    decisions still awaiting an investigator's signature."""
    return {
        "signed": [asdict(line) for line in signatures_of(unit.session, code)],
        "awaiting_signature": [
            {"record": r.label, "meaning": r.meaning, "deviation": r.deviation}
            for r in awaiting_signature(unit.session, code)
        ],
    }
