"""Protocol amendments: a changed protocol text needs a new version, and subjects keep the
version they were enrolled under, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, func, select

from scheduler.db import get_engine
from scheduler.errors import ProtocolError
from scheduler.kernel.protocol_versions import load_protocol_file, load_shipped_protocols
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.unit import unit_of_work
from scheduler.models import ProtocolVersion, Subject
from scheduler.protocols import shipped_protocol_files
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.enrolment import enroll

SHIPPED = next(p for p in shipped_protocol_files() if p.name == "nct03945799.toml")
SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")


def _version_1(folder: Path) -> Path:
    """The shipped protocol as version 1 had it: only "hemorrhage" and "bleeding" (and two
    spellings) under the hemorrhage rule, and no ``[enrolment]`` interval (version 3)."""
    text = SHIPPED_TEXT.replace('version = "5"', 'version = "1"', 1)
    enrolment = text.index("[enrolment]\n")
    text = text[:enrolment] + text[text.index("\n\n", enrolment) + 2 :]
    start = text.index("terms = [\n", text.index('id = "hemorrhage-g3"'))
    end = text.index("]\n", start) + 2
    old_terms = 'terms = ["hemorrhage", "haemorrhage", "bleeding", "gastrointestinal hemorrhage"]\n'
    path = folder / "nct03945799_v1.toml"
    path.write_text(text[:start] + old_terms + text[end:], encoding="utf-8")
    return path


@pytest.fixture
def engine(db_url):
    return get_engine(db_url)


def _versions(engine) -> int:
    with unit_of_work(engine, "t", None) as unit:
        return unit.session.exec(select(func.count()).select_from(ProtocolVersion)).one()


def test_changed_text_under_a_loaded_version_is_refused_and_nothing_is_stored(
    engine, clock, tmp_path
):
    with unit_of_work(engine, "setup", clock) as unit:
        load_shipped_protocols(unit)
    before = _versions(engine)
    amended = tmp_path / "amended.toml"
    amended.write_text(SHIPPED_TEXT.replace("max_grade = 3", "max_grade = 4", 1), encoding="utf-8")
    with pytest.raises(ProtocolError) as error, unit_of_work(engine, "pharmacist", clock) as unit:
        load_protocol_file(unit, amended)
    assert error.value.key_path == "version" and "new version" in str(error.value)
    assert _versions(engine) == before


def test_subjects_keep_the_version_they_were_enrolled_under(engine, clock, settings, tmp_path):
    """A grade 3 epistaxis proposes a hold under version 1 and discontinuation under the
    shipped version, whichever version is newest when it is recorded."""
    with unit_of_work(engine, "setup", clock) as unit:
        load_protocol_file(unit, _version_1(tmp_path))
        site = ensure_default_site(unit, settings).code
    with unit_of_work(engine, "setup", clock) as unit:
        enroll(unit, "S-OLD", c1d1="2026-02-02", surgery="2026-01-05", site_code=site)
    with unit_of_work(engine, "setup", clock) as unit:
        load_shipped_protocols(unit)
        enroll(unit, "S-NEW", c1d1="2026-02-02", surgery="2026-01-05", site_code=site)
    actions = {}
    for code in ("S-OLD", "S-NEW"):
        with unit_of_work(engine, "nurse", clock) as unit:
            result = record_adverse_event(unit, code, term="Epistaxis", grade=3, onset="2026-02-20")
        actions[code] = result.proposal.action
    assert actions == {"S-OLD": "hold_then_reduce", "S-NEW": "discontinue"}


def test_version_5_doses_at_7_before_breakfast_and_earlier_subjects_keep_8(
    engine, clock, settings, tmp_path
):
    """Version 5's only change: the default dose time. A subject's time is fixed at
    enrolment, so S-V4, enrolled under version 4, keeps 08:00 once version 5 is loaded."""
    version_4 = tmp_path / "nct03945799_v4.toml"
    version_4.write_text(
        SHIPPED_TEXT.replace('version = "5"', 'version = "4"', 1).replace(
            'default_dose_time = "07:00"', 'default_dose_time = "08:00"', 1
        ),
        encoding="utf-8",
    )
    with unit_of_work(engine, "setup", clock) as unit:
        load_protocol_file(unit, version_4)
        site = ensure_default_site(unit, settings).code
        enroll(unit, "S-V4", c1d1="2026-02-02", surgery="2026-01-05", site_code=site)
    with unit_of_work(engine, "setup", clock) as unit:
        load_shipped_protocols(unit)
        enroll(unit, "S-V5", c1d1="2026-02-02", surgery="2026-01-05", site_code=site)
        times = {
            s.code: s.dose_time.strftime("%H:%M")
            for s in unit.session.exec(select(Subject).order_by(col(Subject.code)))
        }
    assert times == {"S-V4": "08:00", "S-V5": "07:00"}
