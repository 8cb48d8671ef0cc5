"""Sites, and the site boundary of the staff account a unit of work acts for.

A staff account with sites (``StaffSite`` rows) sees and changes only those sites' subjects; one
without is study-wide. The boundary is bound to the unit's session once (``bind_account``) and
applied where each kind of access starts: ``get_site`` and ``subject_state.get_subject`` answer
NotFound for a site or subject outside it, exactly as for one that does not exist, and lists
start from ``visible_sites`` or ``site_scope``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from scheduler.errors import NotFound
from scheduler.kernel.validation import check_code, check_zone
from scheduler.models import Site, StaffSite, StaffUser
from scheduler.settings import Settings

if TYPE_CHECKING:
    from scheduler.kernel.unit import Unit

SITE_SCOPE = "site_scope"
"""Set on a unit of work's session: the ids of the sites its staff account works at, or None for
a study-wide account and for units that act for no account (the worker, ``dosing init``)."""


def bind_account(session: Session, name: str) -> None:
    """Bind the session to the sites of the staff account ``name``: none when ``name`` is no
    account or a study-wide one."""
    ids = session.exec(
        select(StaffSite.site_id)
        .join(StaffUser, col(StaffUser.id) == StaffSite.staff_id)
        .where(StaffUser.name == name)
    ).all()
    bind_sites(session, ids)


def bind_sites(session: Session, site_ids: Collection[int]) -> None:
    """Bind the session to the sites ``site_ids`` of its account, read by the caller with the
    account itself (a request reads them with its token or login session): no statement, so on
    SQLite the unit's write lock is taken by its service's first one, not here."""
    session.info[SITE_SCOPE] = frozenset(site_ids) if site_ids else None


def site_scope(session: Session) -> frozenset[int] | None:
    """The site ids this session may see, or None for every site."""
    scope: frozenset[int] | None = session.info.get(SITE_SCOPE)
    return scope


def in_scope(session: Session, site_id: int | None) -> bool:
    scope = site_scope(session)
    return scope is None or site_id in scope


def visible_sites(session: Session) -> list[Site]:
    """The sites this session may see, by code: what site pickers and per-site lists offer."""
    query = select(Site).order_by(col(Site.code))
    scope = site_scope(session)
    if scope is not None:
        query = query.where(col(Site.id).in_(scope))
    return list(session.exec(query).all())


def get_site(session: Session, code: str) -> Site:
    """The site ``code``; one outside the session's sites is answered as if it did not exist."""
    check_code("site", code)
    site = session.exec(select(Site).where(Site.code == code)).first()
    if site is None or not in_scope(session, site.id):
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
