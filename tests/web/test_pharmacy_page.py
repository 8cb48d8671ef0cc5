"""The pharmacist's page shows the same rows as the CLI, for the demo subjects. The fixed
clock reads 2026-03-02; the demo is seeded relative to it."""

import pytest

from scheduler.services.pharmacy import preparation_list


@pytest.fixture
def client(staff_client):
    return staff_client("pharmacist")


def test_the_page_lists_every_row_of_the_service(client, units):
    with units() as unit:
        listing = preparation_list(unit.session, unit.now, start=None, end=None, site_code="ZJU1")
    page = client.get("/pharmacy", params={"site": "ZJU1"})
    assert page.status_code == 200
    assert listing.rows, "the demo has a cycle to prepare within the week"
    for row in listing.rows:
        assert row.subject in page.text and row.status in page.text


def test_a_bad_date_is_a_4xx_naming_the_field(client):
    response = client.get("/pharmacy", params={"start": "2026-02-30"})
    assert 400 <= response.status_code < 500
    assert "from" in response.text
