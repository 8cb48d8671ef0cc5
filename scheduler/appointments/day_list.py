"""The day's appointments of each clinic: what the nurses, the CLI and the site feed list.

Read from the appointments and the worklist's visit rows (``scheduledvisit``, kept in step with
every change): an appointment whose visit has moved out of its window, or is behind a hold, is
``stale`` (the patient was told "date to be confirmed").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, select
from sqlmodel import Session, col

from scheduler.appointments.booking import CURRENT
from scheduler.clock import local_today
from scheduler.kernel.sites import get_site, visible_sites
from scheduler.models import Appointment, ScheduledVisit, Site, Subject


@dataclass(frozen=True)
class DayLine:
    site: str
    subject: str
    visit_code: str
    visit_name: str
    day: date
    start: time
    minutes: int
    stale: bool
    """The visit has moved since: to be booked again."""

    def as_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "subject": self.subject,
            "visit_code": self.visit_code,
            "visit_name": self.visit_name,
            "on": self.day,
            "at": f"{self.start:%H:%M}",
            "minutes": self.minutes,
            "stale": self.stale,
        }


def _lines(session: Session, sites: list[Site], first: date, last: date) -> list[DayLine]:
    codes = {site.id: site.code for site in sites}
    if not codes:
        return []
    visit = ScheduledVisit
    query = (
        select(
            col(Appointment.site_id),
            col(Subject.code),
            col(Appointment.visit_code),
            col(visit.name),
            col(Appointment.day),
            col(Appointment.start),
            col(Appointment.minutes),
            col(visit.window_start),
            col(visit.window_end),
            col(visit.tentative),
            col(visit.done),
        )
        .join(Subject, col(Subject.id) == Appointment.subject_id)
        .outerjoin(
            visit,
            and_(
                col(visit.subject_id) == Appointment.subject_id,
                col(visit.visit_code) == Appointment.visit_code,
            ),
        )
        .where(
            col(Appointment.site_id).in_(list(codes)),
            col(Appointment.day) >= first,
            col(Appointment.day) <= last,
            CURRENT,
        )
        .order_by(col(Appointment.day), col(Appointment.start), col(Subject.code))
    )
    lines = []
    for row in session.execute(query):
        site_id, code, visit_code, name, day, start, minutes, opens, closes, tentative, done = row
        stale = not done and (opens is None or tentative or not opens <= day <= closes)
        lines.append(
            DayLine(
                codes[site_id], code, visit_code, name or visit_code, day, start, minutes, stale
            )
        )
    return lines


def day_list(
    session: Session, now: datetime, day: date | None = None, site_code: str | None = None
) -> list[DayLine]:
    """The appointments booked on ``day`` (default: each site's today in its zone) at one
    site's clinic, or at every visible site's, by site, then time."""
    sites = [get_site(session, site_code)] if site_code is not None else visible_sites(session)
    lines = []
    for site in sites:
        on = day or local_today(now, site.time_zone)
        lines += _lines(session, [site], on, on)
    return lines


def site_appointments(session: Session, site: Site, first: date, last: date) -> list[DayLine]:
    """A site's appointments over a range of days (the site feed)."""
    return _lines(session, [site], first, last)
