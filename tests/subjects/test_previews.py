"""What-if previews of holds and resumptions, on SQLite and PostgreSQL. The fixed clock reads
2026-03-02 in Shanghai. S-001 started cycle 1 on 2026-02-02, so cycle 2 is due on 2026-02-23;
a hold from C1D19 (2026-02-20, a rest day) covers that day 1 and delays cycle 2."""

from datetime import date

import pytest
from sqlmodel import func, select

from scheduler.db import get_engine
from scheduler.errors import Conflict
from scheduler.models import AuditEntry, Hold, Resumption
from scheduler.subjects.doses import record_dose
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.previews import preview_hold, preview_resume
from scheduler.subjects.treatment import hold


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-02", surgery="2026-01-05", site_code="ZJU1")
    return "S-001"


def _counts(units):
    with units() as unit:
        return tuple(
            unit.session.exec(select(func.count()).select_from(table)).one()
            for table in (Hold, Resumption, AuditEntry)
        )


def test_a_hold_over_cycle_2_day_1_previews_the_delay_and_stores_nothing(
    units, subject, db_url, clock
):
    before = _counts(units)
    preview = preview_hold(
        get_engine(db_url), "nurse", clock.now(), subject, start="2026-02-20", reason="grade 3 HTN"
    )
    diff = preview.diff
    assert (diff.status_before, diff.status_after) == ("on_treatment", "on_hold")
    c2 = diff.cycles_moved[0]
    assert (c2.what, c2.before, c2.after) == ("C2D1", date(2026, 2, 23), date(2026, 3, 3))
    assert [m.what for m in diff.cycles_moved] == [f"C{n}D1" for n in range(2, 9)]
    assert {m.days for m in diff.cycles_moved} == {8}
    c2d1_visit = next(m for m in diff.visits_moved if m.what == "C2D1")
    assert c2d1_visit.after == date(2026, 3, 3)
    assert diff.lost[0].cycle == 2 and diff.lost[0].first_day == 1 and diff.lost[0].tentative
    assert diff.lost_count == 7 * 14
    assert _counts(units) == before


def test_a_hold_after_a_recorded_dose_is_refused_by_the_preview_as_by_the_hold(
    units, subject, db_url, clock
):
    with units() as unit:
        record_dose(unit, subject, on="2026-02-10", taken=True)
    with pytest.raises(Conflict) as refused:
        preview_hold(
            get_engine(db_url), "nurse", clock.now(), subject, start="2026-02-09", reason="HTN"
        )
    assert refused.value.field == "from"


def test_resuming_at_10_mg_previews_cycle_2_one_day_earlier_and_the_reduction(
    units, subject, db_url, clock
):
    with units() as unit:
        hold(unit, subject, start="2026-02-20", reason="grade 3 hypertension")
    before = _counts(units)
    preview = preview_resume(
        get_engine(db_url), "investigator", clock.now(), subject, on="2026-03-02", dose_mg=10
    )
    diff = preview.diff
    assert (diff.status_before, diff.status_after) == ("on_hold", "on_treatment")
    assert diff.cycles_moved[0].what == "C2D1"
    assert (diff.cycles_moved[0].before, diff.cycles_moved[0].after) == (
        date(2026, 3, 3),
        date(2026, 3, 2),
    )
    assert {(lvl.cycle, lvl.before_mg, lvl.after_mg) for lvl in diff.levels} == {
        (n, 12, 10) for n in range(2, 9)
    }
    assert not diff.lost and diff.restored_count == 7 * 14
    assert preview.after.dose_mg == 10 and preview.before.dose_mg == 12
    assert _counts(units) == before


def test_resuming_on_the_day_the_open_hold_is_projected_to_end_moves_no_cycle(
    units, subject, db_url, clock
):
    with units() as unit:
        hold(unit, subject, start="2026-02-20", reason="grade 3 hypertension")
    # An open hold is laid out as if it ended tomorrow; resuming then moves no day 1.
    preview = preview_resume(get_engine(db_url), "inv", clock.now(), subject, on="2026-03-03")
    assert not preview.diff.cycles_moved and not preview.diff.levels
    assert preview.diff.status_after == "on_hold" and preview.diff.restored_count == 7 * 14
