"""What a site decides about its feeds (the service builds this from settings and the site)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from scheduler.i18n import LANGUAGES, Wording, wording

PRODID = "-//dosing-scheduler//calendar feeds//EN"
RENDER_FORMAT = 6
"""Raised whenever the same plan would render to other bytes (a serializer or template fix):
served feeds fold it into their options digest, so their ETags change on the next fetch
instead of a client's cached copy of the old bytes being confirmed with 304. 2: doses changed
mid-cycle whose new capsules are not dispensed yet say to collect them first. 3: patient words
("day 8 of 14", "first day of cycle 2: collect your capsules"), recorded doses say what
happened, a visit done gives its date, a tentative visit has no alarm. 4: a past dose without
a record asks the patient to tell the team, never to take it now. 5: a typed backslash
followed by "N" is escaped as two characters instead of becoming a line break."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedOptions:
    """Feed-wide choices. Every text here is typed by a person and is cleaned before use."""

    calendar_name: str = "Study calendar"
    show_drug_name: bool = False
    """Privacy by default: titles say "Study capsule" unless the site turns the drug name on."""
    site_address: str = ""
    """LOCATION of visits."""
    clinic_phone: str = ""
    """Printed in every visit and dose description, so a patient knows whom to call."""
    dose_minutes: int = 15
    """Length of a dose event (DURATION), so it shows as a short block at the dose time."""
    visit_alarm: time = time(18, 0)
    """Local time of the evening-before alarm of a visit (all-day events)."""
    alarms: bool = True
    """DISPLAY alarms are a convenience only: Google and Outlook ignore alarms in subscribed
    calendars; the reminder service is the reminder of record."""

    language: str = "en"
    """The patient's language (``scheduler.i18n.LANGUAGES``): titles, descriptions, alarms and
    dates of patient events. Staff feeds stay in the source language."""

    def __post_init__(self) -> None:
        if not 1 <= self.dose_minutes <= 240:
            raise ValueError("dose_minutes must be 1..240")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")

    @property
    def wording(self) -> Wording:
        return wording(self.language)

    @property
    def visit_alarm_before(self) -> timedelta:
        """The alarm trigger relative to the visit day's midnight (negative: the day before)."""
        return timedelta(hours=self.visit_alarm.hour, minutes=self.visit_alarm.minute) - (
            timedelta(days=1)
        )
