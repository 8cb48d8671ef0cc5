"""Local dose times to instants: the one place the DST policy lives.

Dates are local to the subject. A dose time that does not exist on a day (inside a spring-forward
gap) is taken to be that many minutes after the gap opens, as the wall clock would read if it had
not jumped: 02:30 on a day when 02:00 becomes 03:00 is 03:30. A dose time that occurs twice (in
an autumn fold) is the first occurrence, so a dose is never pushed an hour later than the patient
expects. Both follow PEP 495 with fold=0, which is also what RFC 5545 prescribes for a
DTSTART;TZID that falls in a gap or an overlap, so calendar clients agree with reminders.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo


def local_instant(on: date, at: time, zone: tzinfo) -> datetime:
    """The UTC instant of wall time ``at`` on ``on`` in ``zone`` under the policy above."""
    return datetime.combine(on, at, tzinfo=zone).replace(fold=0).astimezone(UTC)


def minutes_between(on: date, earlier: time, later: time, zone: tzinfo) -> int:
    """Elapsed minutes between two wall times of one local day, across any DST change."""
    delta = local_instant(on, later, zone) - local_instant(on, earlier, zone)
    return int(delta.total_seconds() // 60)
