"""Rows derived from a subject's plan: kept in step with the records in the same transaction.

The plan itself is never stored (the core derives it), but some readers cannot afford to derive
every plan on each request: the reminder outbox and the worklist's indexed visit rows. Each
owning feature has one projection function; the composition root (``scheduler.app.bootstrap``)
installs the list, so the kernel never imports a feature. ``unit_of_work`` calls
``refresh_derived`` before it commits, for every subject whose records the unit touched, so a
hold and the cancellation of its reminders commit together or not at all. The calendar feeds
need less: only to know that a plan may have changed, which each subject's ``revision`` (bumped
here) tells them. Time alone also moves some plans (an open hold pushes the next cycle day by
day), so the daily job calls it as well for the subjects whose reminders need it
(``scheduler.reminders.jobs.refresh_moving_plans``); the worklist rows are written so that they
never need it (see ``scheduler.worklist.rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select

from scheduler.kernel.subject_state import LOCKED, SubjectState, states
from scheduler.models import Subject

if TYPE_CHECKING:
    from scheduler.kernel.unit import Unit

Projection = Callable[["Unit", Sequence[SubjectState]], None]

_installed: tuple[Projection, ...] | None = None

_LOCKED = (
    select(Subject)
    .where(col(Subject.id).in_(bindparam("ids", expanding=True)))
    .order_by(col(Subject.id))
    .with_for_update()
)
_SUBJECT = Subject.__table__  # type: ignore[attr-defined]
_BUMP = (
    update(_SUBJECT)
    .where(_SUBJECT.c.id.in_(bindparam("ids", expanding=True)))
    .values(revision=_SUBJECT.c.revision + 1)
)
"""Built once: on a write, building the statement cost more than running it. The bump goes to
the table, and the loaded subjects are told the new value, so that no flush of the session
is needed for it."""


def install(projections: Sequence[Projection]) -> None:
    """Called once per process by the composition root, before any unit of work opens."""
    global _installed
    _installed = tuple(projections)


def installed() -> tuple[Projection, ...]:
    """A unit of work without its projections would commit records whose derived rows (reminders,
    worklist, feeds) silently go stale, so running unwired is an error, not a default."""
    if _installed is None:
        raise RuntimeError("projections not installed: call scheduler.app.bootstrap.bootstrap()")
    return _installed


def refresh_derived(unit: Unit, subject_ids: Sequence[int]) -> None:
    """Bumps each subject's ``revision`` (what readers such as the feeds compare with what they
    derived from), then runs the projections."""
    if not subject_ids:
        return
    # In id order: units refreshing several subjects (the daily job) lock them consistently.
    locked: dict[int, Subject] = unit.session.info.get(LOCKED, {})
    if all(i in locked for i in subject_ids):
        subjects = [locked[i] for i in sorted(subject_ids)]
    else:
        subjects = list(unit.session.exec(_LOCKED, params={"ids": list(subject_ids)}))
    unit.session.execute(_BUMP, {"ids": [s.id for s in subjects]})
    for subject in subjects:
        set_committed_value(subject, "revision", subject.revision + 1)
    if not unit.projections:
        return
    fresh = states(unit.session, subjects, unit.now, known=unit.known_histories)
    for projection in unit.projections:
        projection(unit, fresh)
