"""The composition root's list of projections: every derived store a unit of work refreshes.

A feature that keeps rows derived from subjects' plans adds its refresh function here; the kernel
never imports a feature, so this list is the one place that knows them all.
"""

from __future__ import annotations

from scheduler.kernel.projections import Projection, install
from scheduler.labs.worklist_items import refresh_lab_items
from scheduler.patients.work_items import refresh_patient_items
from scheduler.reminders.outbox import refresh_reminders
from scheduler.worklist.rows import refresh_worklist_rows

PROJECTIONS: tuple[Projection, ...] = (
    refresh_reminders,
    refresh_worklist_rows,
    refresh_lab_items,
    refresh_patient_items,
)


def bootstrap() -> None:
    install(PROJECTIONS)
