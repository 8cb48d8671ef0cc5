"""A site's clinic: the days it opens, its hours and its daily capacity per visit type.

Holidays are the site's holidays of the settings (``Settings.site_holidays``), the days the
pharmacy's lead time skips too: one list of the days a site is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, delete, select

from scheduler.core.appointments import WEEKDAYS, ClinicHours
from scheduler.errors import InputError
from scheduler.kernel.sites import get_site
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import check_text, parse_time
from scheduler.models import Clinic, ClinicCapacity, Site, Subject
from scheduler.settings import Settings

DEFAULT_OPEN_DAYS = "mon,tue,wed,thu,fri"
DEFAULT_OPENS_AT = time(8, 0)
DEFAULT_CLOSES_AT = time(12, 0)
DEFAULT_SLOT_MINUTES = 30
DEFAULT_CAPACITY = 10


def parse_open_days(value: str) -> str:
    """ "mon,tue,wed" in week order, each day once; names the first word that is no day."""
    days = [part.strip().lower() for part in value.split(",") if part.strip()]
    if not days:
        raise InputError("open", "name at least one day (mon,tue,wed,thu,fri,sat,sun)")
    for day in days:
        if day not in WEEKDAYS:
            raise InputError("open", f"{day!r} is not a day: use {','.join(WEEKDAYS)}")
    return ",".join(d for d in WEEKDAYS if d in days)


def parse_capacities(values: list[str]) -> dict[str, int]:
    """``TYPE=N`` pairs ("C{cycle}D1=20", "EOT=5"): a visit type and the visits a day."""
    capacities: dict[str, int] = {}
    for value in values:
        kind, sep, number = value.partition("=")
        if not sep:
            raise InputError("capacity", f"expected TYPE=N such as C{{cycle}}D1=20, got {value!r}")
        try:
            capacities[kind.strip()] = int(number)
        except ValueError:
            raise InputError(
                "capacity", f"{kind}: expected a whole number, got {number!r}"
            ) from None
    return capacities


def _checked_capacities(capacities: dict[str, int]) -> dict[str, int]:
    checked = {}
    for kind, per_day in capacities.items():
        name = check_text("capacity", kind, required=True, limit=32)
        if "\n" in name:
            raise InputError("capacity", f"a visit type is one line, got {kind!r}")
        if not 0 <= per_day <= 1000:
            raise InputError("capacity", f"{name}: expected 0 to 1000 visits a day, got {per_day}")
        checked[name] = per_day
    return checked


@dataclass(frozen=True)
class ClinicView:
    site: str
    open_days: str
    opens_at: time
    closes_at: time
    slot_minutes: int
    default_capacity: int
    capacities: dict[str, int]

    def as_json(self) -> dict[str, object]:
        return {
            "site": self.site,
            "open_days": self.open_days.split(","),
            "opens_at": f"{self.opens_at:%H:%M}",
            "closes_at": f"{self.closes_at:%H:%M}",
            "slot_minutes": self.slot_minutes,
            "default_capacity": self.default_capacity,
            "capacity": self.capacities,
        }


def set_up_clinic(
    unit: Unit,
    site_code: str,
    *,
    open_days: str | None = None,
    opens_at: str | time | None = None,
    closes_at: str | time | None = None,
    slot_minutes: int | None = None,
    default_capacity: int | None = None,
    capacities: dict[str, int] | None = None,
) -> ClinicView:
    """Create the site's clinic, or change what is given (capacities given replace those of
    the same types; others stay). Audited with the old and new settings. The first set-up turns
    the site's patient feeds from visit windows to appointments, so their feeds are redrawn."""
    site = get_site(unit.session, site_code)
    clinic = unit.session.exec(select(Clinic).where(Clinic.site_id == site.id)).first()
    old = None if clinic is None else clinic_view(unit.session, site, clinic).as_json()
    if clinic is None:
        clinic = Clinic(
            site_id=site.id or 0,
            open_days=DEFAULT_OPEN_DAYS,
            opens_at=DEFAULT_OPENS_AT,
            closes_at=DEFAULT_CLOSES_AT,
            slot_minutes=DEFAULT_SLOT_MINUTES,
            default_capacity=DEFAULT_CAPACITY,
            updated_at=unit.now,
            updated_by=unit.actor,
        )
    if open_days is not None:
        clinic.open_days = parse_open_days(open_days)
    if opens_at is not None:
        clinic.opens_at = parse_time("opens", opens_at)
    if closes_at is not None:
        clinic.closes_at = parse_time("closes", closes_at)
    if clinic.closes_at <= clinic.opens_at:
        raise InputError(
            "closes", f"the clinic must close after it opens ({clinic.opens_at:%H:%M})"
        )
    if slot_minutes is not None:
        if not 5 <= slot_minutes <= 240:
            raise InputError("slot-minutes", f"expected 5 to 240 minutes, got {slot_minutes}")
        clinic.slot_minutes = slot_minutes
    if default_capacity is not None:
        if not 0 <= default_capacity <= 1000:
            raise InputError(
                "default-capacity", f"expected 0 to 1000 visits a day, got {default_capacity}"
            )
        clinic.default_capacity = default_capacity
    clinic.updated_at, clinic.updated_by = unit.now, unit.actor
    unit.session.add(clinic)
    for kind, per_day in _checked_capacities(capacities or {}).items():
        unit.session.execute(
            delete(ClinicCapacity).where(
                col(ClinicCapacity.site_id) == site.id, col(ClinicCapacity.visit_type) == kind
            )
        )
        unit.session.add(ClinicCapacity(site_id=site.id or 0, visit_type=kind, per_day=per_day))
    unit.session.flush()
    if old is None:
        unit.session.execute(
            update(Subject)
            .where(col(Subject.site_id) == site.id)
            .values(revision=col(Subject.revision) + 1)
        )
    view = clinic_view(unit.session, site, clinic)
    unit.audit(
        "clinic.set_up" if old is None else "clinic.change",
        entity="clinic",
        entity_id=clinic.id,
        old=old,
        new=view.as_json(),
    )
    return view


def clinic_view(session: Session, site: Site, clinic: Clinic) -> ClinicView:
    rows = session.exec(
        select(ClinicCapacity)
        .where(ClinicCapacity.site_id == site.id)
        .order_by(col(ClinicCapacity.visit_type))
    )
    return ClinicView(
        site=site.code,
        open_days=clinic.open_days,
        opens_at=clinic.opens_at,
        closes_at=clinic.closes_at,
        slot_minutes=clinic.slot_minutes,
        default_capacity=clinic.default_capacity,
        capacities={row.visit_type: row.per_day for row in rows},
    )


def find_clinic(session: Session, site: Site) -> ClinicView | None:
    clinic = session.exec(select(Clinic).where(Clinic.site_id == site.id)).first()
    return None if clinic is None else clinic_view(session, site, clinic)


def clinic_hours(view: ClinicView, settings: Settings) -> ClinicHours:
    return ClinicHours(
        open_days=frozenset(WEEKDAYS.index(d) for d in view.open_days.split(",")),
        opens_at=view.opens_at,
        closes_at=view.closes_at,
        slot_minutes=view.slot_minutes,
        capacity=view.capacities,
        default_capacity=view.default_capacity,
        holidays=frozenset(settings.site_holidays.get(view.site, ())),
    )


_WITH_CLINIC = select(Clinic.site_id).where(
    col(Clinic.site_id).in_(bindparam("ids", expanding=True))
)
"""Built once: the reminders' refresh asks it on every write."""


def sites_with_clinic(session: Session, site_ids: list[int]) -> set[int]:
    """The sites among ``site_ids`` that book appointments (their clinic is set up)."""
    if not site_ids:
        return set()
    return set(session.exec(_WITH_CLINIC, params={"ids": site_ids}))
