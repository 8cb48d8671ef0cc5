"""Rows derived from a subject's plan: kept in step with the records in the same transaction.

The plan itself is never stored (the core derives it), but some readers cannot afford to derive
every plan on each request: the reminder outbox, the calendar feed identities (UID, SEQUENCE) and
the worklist's indexed visit rows. Each owner contributes one refresher here. ``unit_of_work``
calls ``refresh_derived`` before it commits, for every subject whose records the unit touched, so
a hold and the cancellation of its reminders commit together or not at all. Time alone also moves
some plans (an open hold pushes the next cycle day by day), so the daily job calls it as well for
the subjects whose reminders need it (``scheduler.jobs.refresh_moving_plans``); the worklist rows
are written so that they never need it (see ``scheduler.services.worklist_rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlmodel import col, select

from scheduler.models import Subject
from scheduler.services.feeds import refresh_feeds
from scheduler.services.reminders import refresh_reminders
from scheduler.services.subjects import SubjectState, states
from scheduler.services.unit import Unit
from scheduler.services.worklist_rows import refresh_worklist_rows

Refresher = Callable[[Unit, Sequence[SubjectState]], None]

REFRESHERS: tuple[Refresher, ...] = (refresh_reminders, refresh_worklist_rows, refresh_feeds)
"""Each derived store's refresh function, called with the fresh states of the changed subjects."""


def refresh_derived(unit: Unit, subject_ids: Sequence[int]) -> None:
    if not REFRESHERS or not subject_ids:
        return
    subjects = list(unit.session.exec(select(Subject).where(col(Subject.id).in_(subject_ids))))
    fresh = states(unit.session, subjects, unit.now)
    for refresher in REFRESHERS:
        refresher(unit, fresh)
