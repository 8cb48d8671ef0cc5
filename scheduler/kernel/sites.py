from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session, select

from scheduler.errors import NotFound
from scheduler.kernel.validation import check_code, check_zone
from scheduler.models import Site
from scheduler.settings import Settings

if TYPE_CHECKING:
    from scheduler.kernel.unit import Unit


def get_site(session: Session, code: str) -> Site:
    check_code("site", code)
    site = session.exec(select(Site).where(Site.code == code)).first()
    if site is None:
        raise NotFound("site", f"no site {code!r}")
    return site


def ensure_default_site(unit: Unit, settings: Settings) -> Site:
    """The site from the settings, created on first use so a fresh install can enroll at once."""
    code = check_code("site", settings.default_site_code)
    site = unit.session.exec(select(Site).where(Site.code == code)).first()
    if site is not None:
        return site
    site = Site(
        code=code,
        name=settings.default_site_name,
        time_zone=check_zone("time_zone", settings.default_site_time_zone),
        address=settings.default_site_address,
        phone=settings.clinic_phone,
    )
    unit.session.add(site)
    unit.session.flush()
    unit.audit("site.create", entity="site", entity_id=site.id, new=site.model_dump())
    return site
