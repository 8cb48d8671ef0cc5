"""Input that cannot be right is refused naming the field, and stores nothing: a hold after the
end of treatment, an adverse event before screening, an actor name with hidden characters, a
record id too large for the database."""

from __future__ import annotations

import pytest
from cli_runner import run
from sqlmodel import select

from scheduler.errors import InputError
from scheduler.kernel.unit import unit_of_work
from scheduler.models import AdverseEvent, Hold
from scheduler.subjects.adverse_events import record_adverse_event
from scheduler.subjects.enrolment import enroll
from scheduler.subjects.treatment import hold


@pytest.fixture
def subject(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-03-02", surgery="2026-01-20", site_code="ZJU1")
    return "S-001"


def test_a_hold_starting_after_the_last_day_of_treatment_is_refused(units, subject):
    with units() as unit, pytest.raises(InputError) as refused:
        hold(unit, subject, start="2199-12-31", reason="typed in the wrong field")
    assert refused.value.field == "from"
    assert "after the last day of treatment (2026-08-16)" in refused.value.reason
    with units() as unit:
        assert unit.session.exec(select(Hold)).all() == []


def test_an_adverse_event_before_screening_opened_is_refused(units, subject):
    with units() as unit, pytest.raises(InputError) as refused:
        record_adverse_event(unit, subject, term="fatigue", grade=1, onset="2026-01-01")
    assert refused.value.field == "onset"
    assert "before screening opens on 2026-02-02" in refused.value.reason  # baseline imaging
    with units() as unit:
        assert unit.session.exec(select(AdverseEvent)).all() == []


def test_an_actor_name_with_a_direction_override_is_refused(db_url):
    from scheduler.db import get_engine

    with (
        pytest.raises(InputError) as refused,
        unit_of_work(get_engine(db_url), "inv.\u202egnaw"),
    ):
        pass
    assert refused.value.field == "user"


def test_a_record_id_too_large_for_the_database_exits_2_naming_the_option(db_url, subject, capsys):
    status, out, err = run(
        capsys,
        "hold",
        subject,
        "--from",
        "2026-03-05",
        "--reason",
        "grade 3 diarrhoea",
        "--ae",
        "99999999999999999999",
        "--db",
        db_url,
    )
    assert (status, out) == (2, "")
    assert "--ae" in err


@pytest.mark.parametrize(("option", "field"), [("--tz", "tz"), ("--protocol", "protocol")])
def test_an_empty_zone_or_protocol_at_enrolment_is_refused_not_read_as_the_default(
    db_url, units, capsys, option, field
):
    status, out, err = run(
        capsys,
        *("enroll", "S-002", "--c1d1", "2026-03-02", "--surgery", "2026-01-20"),
        *("--site", "ZJU1", option, "", "--db", db_url),
    )
    assert (status, out) == (2, "")
    assert err.startswith(f"error: {field}:")


@pytest.mark.parametrize(
    "argv",
    [
        ("export", "ex", "--out"),
        ("fhir", "S-001", "--out"),
        ("ics", "S-001", "--out"),
    ],
)
def test_an_output_file_that_cannot_be_written_exits_2_naming_the_option(
    db_url, subject, capsys, tmp_path, argv
):
    target = str(tmp_path / "no-such-folder" / "out.txt")
    status, _, err = run(capsys, *argv, target, "--db", db_url)
    assert status == 2
    assert err.startswith("error: out: cannot write")


def test_a_backup_into_a_missing_folder_exits_2_naming_the_file(sqlite_url, capsys, tmp_path):
    target = str(tmp_path / "no-such-folder" / "backup.db")
    status, _, err = run(capsys, "backup", target, "--db", sqlite_url)
    assert status == 2
    assert err.startswith("error: file:")


def test_a_dispensing_before_the_pharmacy_could_prepare_cycle_1_is_refused(units, subject):
    from scheduler.models import Dispensing
    from scheduler.pharmacy.accountability import dispense

    # C1D1 is Monday 2026-03-02; two working days of lead time: Thursday 2026-02-26.
    with units() as unit, pytest.raises(InputError) as refused:
        dispense(
            unit,
            subject,
            cycle=1,
            on="2026-02-20",
            strength=12,
            count=14,
            lot="L1",
            expiry="2027-06-30",
            reason="emergency supply",
        )
    assert refused.value.field == "date"
    assert "(2026-02-26, C1D1 minus the lead time)" in refused.value.reason
    with units() as unit:
        assert unit.session.exec(select(Dispensing)).all() == []
