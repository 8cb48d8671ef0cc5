"""The unit of work: one transaction, one actor, one reading of the clock per command."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from scheduler import core
from scheduler.clock import Clock, SystemClock
from scheduler.db import transaction
from scheduler.kernel import sites
from scheduler.kernel.audit_chain import seal
from scheduler.kernel.projections import Projection, installed, refresh_derived
from scheduler.kernel.subject_state import LOCKS_SUBJECTS
from scheduler.kernel.validation import check_text
from scheduler.models import AuditEntry
from scheduler.settings import Settings, get_settings


@dataclass
class Unit:
    session: Session
    actor: str
    now: datetime
    changed_subjects: set[int] = field(default_factory=set)
    """Subjects whose records this unit touched; their derived rows are refreshed at commit."""
    settings: Settings = field(default_factory=get_settings)
    """Those of the application or worker running the command: derived rows follow them."""
    projections: tuple[Projection, ...] = ()
    """The derived stores refreshed at commit for ``changed_subjects``."""
    audit_entries: list[AuditEntry] = field(default_factory=list)
    """Entries of this unit, chained and inserted at commit (``audit_chain.seal``)."""
    known_histories: dict[int, core.History] = field(default_factory=dict)
    """Histories a service knows as the database now holds them (``knows``): the refresh at
    commit reads these instead of loading them again."""

    def knows(self, subject_id: int, history: core.History) -> None:
        """Say that ``history`` is the subject's history with this unit's writes, so the refresh
        at commit need not load it again. Call it after the write's ``audit``: any later
        change to the subject audits again and so forgets it."""
        self.known_histories[subject_id] = history

    def audit(
        self,
        action: str,
        *,
        entity: str,
        entity_id: int | None,
        subject_id: int | None = None,
        old: Any = None,
        new: Any = None,
        reason: str = "",
    ) -> None:
        """Append who did what, when and why; old and new values are kept as JSON. The entry is
        written at commit, when it is linked to the end of the audit chain."""
        if subject_id is not None:
            self.changed_subjects.add(subject_id)
            self.known_histories.pop(subject_id, None)
        self.audit_entries.append(
            AuditEntry(
                at=self.now,
                actor=self.actor,
                action=action,
                subject_id=subject_id,
                entity=entity,
                entity_id=entity_id,
                old_value=None if old is None else json.dumps(old, sort_keys=True, default=str),
                new_value=None if new is None else json.dumps(new, sort_keys=True, default=str),
                reason=reason,
            )
        )


@contextmanager
def unit_of_work(
    engine: Engine,
    actor: str,
    clock: Clock | None = None,
    settings: Settings | None = None,
    projections: tuple[Projection, ...] | None = None,
    *,
    bind_account: bool = False,
    account_sites: Collection[int] | None = None,
) -> Iterator[Unit]:
    """One transaction for one command; ``projections`` default to those the composition root
    installed. With ``bind_account`` the unit acts for the staff account named ``actor`` and
    sees only the subjects of its sites (``kernel.sites``); the web and the CLI ask for it, the
    worker and the setup commands do not. ``account_sites``, the ids of the account's sites
    when the caller has read them already (a request, with its token), saves reading them in
    the transaction."""
    actor = check_text("user", actor, required=True, limit=64)
    now = (clock or SystemClock()).now()
    with transaction(engine) as session:
        session.info[LOCKS_SUBJECTS] = True
        if account_sites is not None:
            sites.bind_sites(session, account_sites)
        elif bind_account:
            sites.bind_account(session, actor)
        unit = Unit(
            session=session,
            actor=actor,
            now=now,
            settings=settings or get_settings(),
            projections=installed() if projections is None else projections,
        )
        yield unit
        if unit.changed_subjects:
            refresh_derived(unit, sorted(unit.changed_subjects))
        seal(session, unit.audit_entries)
