"""Every export downloads from the page, the same bytes as the CLI's, and each download is an
audit entry naming who took which file."""

import json

import pytest
from sqlmodel import select

from scheduler.models import AuditEntry
from scheduler.pharmacy.preparation_csv import preparation_csv
from scheduler.pharmacy.preparation_list import preparation_list
from scheduler.pharmacy.sdtm import export_csv


def _downloads(units):
    with units() as unit:
        entries = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "export.download")
        ).all()
    return [(e.actor, json.loads(e.new_value)) for e in entries]


def test_the_exports_page_offers_every_download(staff_client):
    page = staff_client("nurse").get("/exports").text
    for target in (
        "/exports/sdtm/ex.csv",
        "/exports/sdtm/da.csv",
        "/exports/sdtm/sv.csv",
        "/exports/preparation.csv",
        'action="/exports/fhir"',
        'action="/audit.csv"',
    ):
        assert target in page


@pytest.mark.parametrize("domain", ["ex", "da", "sv"])
def test_an_sdtm_download_is_the_cli_export_and_is_audited(staff_client, units, clock, domain):
    nurse = staff_client("nurse")
    response = nurse.get(f"/exports/sdtm/{domain}.csv", params={"site": "ZJU1"})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="{domain}-ZJU1.csv"'
    with units() as unit:
        expected = export_csv(unit.session, clock.now(), domain, site_code="ZJU1")
    assert response.text == expected
    actor, entry = _downloads(units)[-1]
    assert actor == "test-nurse"
    assert entry == {
        "export": f"sdtm-{domain}",
        "site": "ZJU1",
        "rows": len(expected.splitlines()) - 1,
    }


def test_the_preparation_list_csv_is_the_cli_csv(staff_client, units, clock):
    response = staff_client("pharmacist").get(
        "/exports/preparation.csv", params={"start": "2026-03-02", "end": "2026-03-31"}
    )
    assert response.status_code == 200
    with units() as unit:
        listing = preparation_list(
            unit.session,
            clock.now(),
            start=clock.now().date().replace(day=2),
            end=clock.now().date().replace(day=31),
        )
    assert response.text == preparation_csv(listing)
    assert response.text.startswith("prepare_by,subject,site,cycle")
    actor, entry = _downloads(units)[-1]
    assert actor == "test-pharmacist" and entry["export"] == "preparation-list"
    assert entry["rows"] == len(listing.rows) and entry["start"] == "2026-03-02"


def test_a_fhir_bundle_and_an_audit_trail_download_land_in_the_subjects_trail(staff_client, units):
    nurse = staff_client("nurse")
    bundle = nurse.get("/exports/fhir", params={"subject": "DEMO-002"})
    assert bundle.status_code == 200 and bundle.json()["resourceType"] == "Bundle"
    trail = nurse.get("/audit.csv", params={"subject": "DEMO-002"})
    assert trail.status_code == 200
    lines = trail.text.splitlines()
    assert lines[0] == "id,at_utc,actor,action,entity,entity_id,subject,old_value,new_value,reason"
    assert ",subject.enroll," in lines[1]
    assert any(",export.download," in line and "fhir-bundle" in line for line in lines)
    with units() as unit:
        mine = unit.session.exec(
            select(AuditEntry).where(AuditEntry.action == "export.download")
        ).all()
    assert [json.loads(e.new_value)["export"] for e in mine[-2:]] == [
        "fhir-bundle",
        "audit-trail",
    ]
    assert all(e.subject_id is not None for e in mine[-2:])


def test_an_unknown_subject_or_site_downloads_nothing_and_is_not_audited(staff_client, units):
    nurse = staff_client("nurse")
    before = len(_downloads(units))
    assert nurse.get("/exports/fhir", params={"subject": "GHOST"}).status_code == 404
    assert nurse.get("/audit.csv", params={"subject": "GHOST"}).status_code == 404
    assert nurse.get("/exports/sdtm/ex.csv", params={"site": "NOPE"}).status_code == 404
    assert nurse.get("/exports/sdtm/xx.csv").status_code == 422
    assert len(_downloads(units)) == before
