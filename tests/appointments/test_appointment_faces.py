"""`dosing clinic`, `dosing book`, `dosing appointments`, the JSON API and the booking page: one
service behind each, the roles of the web app, every refusal named (exit 2, a 4xx, the summary
at the top of the page with the input kept) and nothing stored. The CLI subject starts on
Monday 2030-03-04, so its C2D1 (target Monday 03-25, window 03-22 .. 03-28) is in the future
whatever the wall clock reads; the web tests run on the demo trial at the suite's fixed clock
(2026-03-02, noon in Shanghai; DEMO-002 is on cycle 2, its C3D1 due Thursday 2026-03-19,
window 03-16 .. 03-22)."""

from __future__ import annotations

import json

import pytest
from cli_runner import ACCOUNTS, run
from sqlmodel import select

from scheduler.models import Appointment, AuditEntry


@pytest.fixture
def db(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'appointments.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    args = ("enroll", "S-014", "--c1d1", "2030-03-04", "--surgery", "2030-01-28", "--db", url)
    assert run(capsys, *args)[0] == 0
    return ("--db", url)


def _clinic(capsys, db) -> tuple[int, str, str]:
    return run(
        capsys, "clinic", "ZJU1", "--open", "mon,tue,wed,thu,fri", "--opens", "08:00",
        "--closes", "11:00", "--capacity", "C{cycle}D1=1", *db, "--user", ACCOUNTS["admin"],
    )  # fmt: skip


def test_dosing_clinic_is_for_admins_and_prints_the_set_up(capsys, db):
    code, _, err = run(capsys, "clinic", "ZJU1", "--open", "mon,tue", *db)
    assert code == 2 and "this needs the role admin" in err
    code, out, err = _clinic(capsys, db)
    assert (code, err) == (0, "")
    assert "ZJU1 clinic: open mon,tue,wed,thu,fri, 08:00-11:00, 30-minute appointments" in out
    assert "C{cycle}D1" in out
    code, out, _ = run(capsys, "clinic", "ZJU1", "--json", *db)
    assert json.loads(out)["capacity"] == {"C{cycle}D1": 1}
    code, _, err = run(capsys, "clinic", "ZJU1", "--open", "mon,xyz", *db, "--user", "cli-admin")
    assert code == 2 and err.startswith("error: open: 'xyz' is not a day")


def test_dosing_book_lists_free_slots_books_refuses_a_full_day_and_rebooks(capsys, db):
    assert _clinic(capsys, db)[0] == 0
    code, out, _ = run(capsys, "book", "S-014", "C2D1", "--json", *db)
    assert code == 0
    slots = json.loads(out)["slots"]
    assert [s["on"] for s in slots] == [
        "2030-03-25", "2030-03-26", "2030-03-27", "2030-03-22", "2030-03-28",
    ]  # fmt: skip
    code, out, err = run(
        capsys, "book", "S-014", "C2D1", "--on", "2030-03-25", "--at", "09:00", *db
    )
    assert (code, err, out) == (0, "", "S-014 C2D1 booked on 2030-03-25 at 09:00\n")

    code, _, err = run(capsys, "book", "S-014", "C2D1", "--on", "2030-03-24", "--at", "09:00",
                       "--reason", "patient asked", *db)  # fmt: skip
    assert code == 2 and err == "error: on: the clinic is closed on Sundays\n"
    code, out, err = run(capsys, "book", "S-014", "C2D1", "--on", "2030-03-26", "--at", "10:00",
                         "--reason", "patient asked", *db)  # fmt: skip
    assert code == 0 and out.endswith("(rebooked)\n")

    code, out, _ = run(capsys, "appointments", "--date", "2030-03-26", "--json", *db)
    assert [(a["subject"], a["visit_code"], a["at"]) for a in json.loads(out)["appointments"]] == [
        ("S-014", "C2D1", "10:00")
    ]
    code, out, _ = run(capsys, "appointments", "--site", "ZJU1", "--date", "2030-03-25", *db)
    assert out == "no appointments\n"


def test_dosing_book_needs_both_date_and_time(capsys, db):
    code, _, err = run(capsys, "book", "S-014", "C2D1", "--on", "2030-03-25", *db)
    assert code == 2 and err == "error: --at: give both --on and --at\n"


def test_the_api_books_refuses_and_lists(web_app, staff_client, units):
    admin, nurse = staff_client("admin"), staff_client("nurse")
    clinic = {"open_days": ["mon", "tue", "wed", "thu", "fri"], "capacity": {"C{cycle}D1": 1}}
    assert nurse.put("/api/clinics/ZJU1", json=clinic).status_code == 403
    response = admin.put("/api/clinics/ZJU1", json=clinic)
    assert response.status_code == 200, response.text
    assert response.json()["capacity"] == {"C{cycle}D1": 1}

    slots = nurse.get("/api/subjects/DEMO-002/appointments/C3D1/slots").json()["slots"]
    assert slots[0] == {"on": "2026-03-19", "at": "08:00", "free": 1}
    booked = nurse.post(
        "/api/subjects/DEMO-002/appointments",
        json={"visit_code": "C3D1", "on": "2026-03-19", "at": "08:30"},
    )
    assert booked.status_code == 201, booked.text
    again = nurse.post(
        "/api/subjects/DEMO-002/appointments",
        json={"visit_code": "C3D1", "on": "2026-03-20", "at": "08:30"},
    )
    assert again.status_code == 409 and again.json()["error"]["field"] == "reason"
    listed = nurse.get("/api/subjects/DEMO-002/appointments").json()
    c3d1 = next(v for v in listed["visits"] if v["visit_code"] == "C3D1")
    assert c3d1["appointment"]["on"] == "2026-03-19" and c3d1["stands"]
    assert [h["on"] for h in listed["history"]] == ["2026-03-19"]
    day = nurse.get("/api/appointments?date=2026-03-19").json()["appointments"]
    assert [(a["subject"], a["at"]) for a in day] == [("DEMO-002", "08:30")]
    refused = nurse.post(
        "/api/subjects/DEMO-002/appointments",
        json={"visit_code": "C3D1", "on": "2026-03-21", "at": "08:30", "reason": "moved"},
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "on"
    assert "closed on Saturdays" in refused.json()["error"]["reason"]


def test_the_booking_page_proposes_books_and_keeps_a_refused_input(web_app, staff_client, units):
    admin, nurse = staff_client("admin"), staff_client("nurse")
    assert (
        admin.put(
            "/api/clinics/ZJU1", json={"open_days": ["mon", "tue", "wed", "thu", "fri"]}
        ).status_code
        == 200
    )
    subject_page = nurse.get("/subjects/DEMO-002").text
    assert 'href="/subjects/DEMO-002/appointments"' in subject_page

    page = nurse.get("/subjects/DEMO-002/appointments")
    assert page.status_code == 200
    assert 'id="book-C3D1-form"' in page.text and "2026-03-19 08:00" in page.text

    refused = nurse.form(
        "/subjects/DEMO-002/appointments", {"visit": "C3D1", "on": "2026-03-21", "at": "08:30"}
    )
    assert refused.status_code == 422
    assert 'class="error-summary"' in refused.text
    assert "the clinic is closed on Saturdays" in refused.text
    assert 'value="2026-03-21"' in refused.text and 'aria-invalid="true"' in refused.text
    with units() as unit:
        assert unit.session.exec(select(Appointment)).all() == []

    done = nurse.form(
        "/subjects/DEMO-002/appointments",
        {"visit": "C3D1", "on": "2026-03-19", "at": "09:00"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = nurse.get(done.headers["location"]).text
    assert "C3D1 booked." in page and "2026-03-19 09:00" in page
    day = nurse.get("/appointments?site=ZJU1&date=2026-03-19").text
    assert "DEMO-002" in day and "09:00" in day
    with units() as unit:
        entry = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "appointment.book")
        ).one()
    assert entry.actor == "test-nurse"

    reader = staff_client("pharmacist")
    assert (
        reader.form(
            "/subjects/DEMO-002/appointments", {"visit": "C3D1", "on": "2026-03-20", "at": "09:00"}
        ).status_code
        == 403
    )
