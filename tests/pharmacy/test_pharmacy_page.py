"""The pharmacist's page shows the same rows as the CLI, for the demo subjects. The fixed
clock reads 2026-03-02; the demo is seeded relative to it."""

import re

import pytest

from scheduler.pharmacy.preparation_list import preparation_list


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


def test_a_bad_date_is_a_422_page_naming_the_field(client):
    response = client.get("/pharmacy", params={"start": "2026-02-30"})
    assert response.status_code == 422
    assert 'id="filter-from-error" role="alert">&#39;2026-02-30&#39; is not a real date' in (
        response.text
    )


def test_a_start_past_the_calendar_is_a_422_page_with_the_reason_next_to_the_field(client):
    for start in ("9999-12-31", "0001-01-01"):
        response = client.get("/pharmacy", params={"start": start})
        assert response.status_code == 422, start
        assert response.headers["content-type"].startswith("text/html")
        error = r'<span class="error" id="filter-from-error" role="alert">[^<]*'
        assert re.search(rf'value="{start}">{error}{start}', response.text)


def test_an_end_before_the_start_is_said_next_to_the_end(client):
    response = client.get("/pharmacy", params={"start": "2026-03-09", "end": "2026-03-02"})
    assert response.status_code == 422
    assert re.search(
        r'id="filter-to-error" role="alert">2026-03-02 is before the start of the range',
        response.text,
    )


def test_an_unknown_site_is_said_next_to_the_site_picker(client):
    response = client.get("/pharmacy", params={"site": "NOWHERE"})
    assert response.status_code == 404
    assert 'id="filter-site-error" role="alert">no site &#39;NOWHERE&#39;' in response.text
