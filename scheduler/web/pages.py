"""HTML pages for staff: the nurse's worklist and a subject's plan."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from scheduler.services.subjects import all_subjects, states, subject_state
from scheduler.services.worklist import worklist
from scheduler.web.app import TEMPLATES
from scheduler.web.deps import UnitDep

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, unit: UnitDep, site: str | None = None) -> HTMLResponse:
    subjects = [s.plan() for s in states(unit.session, all_subjects(unit.session, site), unit.now)]
    items = worklist(unit.session, unit.now, site_code=site)
    return TEMPLATES.TemplateResponse(
        request, "worklist.html", {"plans": subjects, "items": items, "site": site}
    )


@router.get("/subjects/{code}", response_class=HTMLResponse)
def subject_page(request: Request, code: str, unit: UnitDep) -> HTMLResponse:
    state = subject_state(unit.session, code, unit.now)
    return TEMPLATES.TemplateResponse(
        request, "subject.html", {"plan": state.plan(), "site": state.site}
    )
