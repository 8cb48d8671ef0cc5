"""The study overview: a swimmer plot of every subject of a site, and the subjects listed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from scheduler.clock import local_today
from scheduler.errors import InputError
from scheduler.kernel.sites import get_site, visible_sites
from scheduler.kernel.subject_state import all_subjects, states
from scheduler.models import Site
from scheduler.web.deps import UnitDep
from scheduler.web.page_language import request_wording
from scheduler.web.rendering import TEMPLATES
from scheduler.web.swimmer_svg import swimmer_svg

router = APIRouter(include_in_schema=False)


def _default_site(request: Request, sites: list[Site]) -> str:
    default: str = request.app.state.settings.default_site_code
    if sites and default not in {s.code for s in sites}:
        return sites[0].code
    return default


@router.get("/overview", response_class=HTMLResponse)
def overview(request: Request, unit: UnitDep, site: str | None = None) -> Response:
    """Every subject of one site (default: the configured default site, or the first of a
    site-bound account's sites) as of the site's today. Plans are built here, one per subject:
    the picture needs each subject's whole history. A site that does not exist (or is not one
    of the account's) is said next to the site picker."""
    sites = visible_sites(unit.session)
    code = site or _default_site(request, sites)
    try:
        chosen = get_site(unit.session, code)
    except InputError as exc:
        context = {"site": None, "sites": sites, "error": exc}
        return TEMPLATES.TemplateResponse(
            request, "overview.html", context, status_code=exc.http_status
        )
    today = local_today(unit.now, chosen.time_zone)
    plans = [s.plan() for s in states(unit.session, all_subjects(unit.session, code), unit.now)]
    words = request_wording(request)
    title = words.gettext("Swimmer plot of site {site} on {day}").format(
        site=chosen.code, day=today
    )
    svg = swimmer_svg(plans, today, title=title, words=words)
    return TEMPLATES.TemplateResponse(
        request,
        "overview.html",
        {"site": chosen, "sites": sites, "today": today, "plans": plans, "svg": Markup(svg)},
    )
