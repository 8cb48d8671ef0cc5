"""Every page that reads a date answers a person's bad date with the page and the reason next to
the field: never a 500 (``9999-12-31`` and ``0001-01-01`` used to overflow the date
arithmetic), never JSON, and nothing stored."""

import re

import pytest
from sqlmodel import func, select

from scheduler.models import AuditEntry

BAD_DATES = ["20260302", "2026-W10-1", "9999-12-31", "0001-01-01"]

# (method, path, form id, date field, other values), as an investigator may send them all.
DATE_FIELDS = [
    ("GET", "/", "worklist", "date", {}),
    ("GET", "/subjects/DEMO-002/hold-preview", "hold", "from", {"reason": "g3 HTN"}),
    ("GET", "/subjects/DEMO-004/resume-preview", "resume", "on", {}),
    ("POST", "/subjects/DEMO-002/visits", "visit", "on", {"code": "C3D1"}),
    ("POST", "/subjects/DEMO-002/doses", "dose", "date", {"outcome": "taken"}),
    ("POST", "/subjects/DEMO-002/adverse-events", "ae", "onset", {"term": "rash", "grade": "2"}),
    ("POST", "/subjects/DEMO-002/holds", "hold", "from", {"reason": "g3 HTN"}),
    ("POST", "/subjects/DEMO-004/resumptions", "resume", "on", {}),
    ("POST", "/subjects/DEMO-002/discontinuation", "discontinue", "on", {"reason": "toxicity"}),
]


def _audit_entries(units) -> int:
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(AuditEntry)).one()


@pytest.mark.parametrize("value", BAD_DATES)
def test_a_bad_date_on_any_page_is_a_4xx_page_with_the_reason_next_to_the_field(
    staff_client, units, value
):
    investigator = staff_client("investigator")
    before = _audit_entries(units)
    for method, path, form, field, others in DATE_FIELDS:
        values = {**others, field: value}
        if method == "GET":
            response = investigator.get(path, params=values)
        else:
            response = investigator.form(path, values)
        where = f"{method} {path} {field}={value}"
        assert 400 <= response.status_code < 500, where
        assert response.headers["content-type"].startswith("text/html"), where
        shown = re.search(rf'id="{form}-{field}-error" role="alert">([^<]*)<', response.text)
        assert shown and ("is not a date" in shown[1] or "outside 1900-2199" in shown[1]), where
    assert _audit_entries(units) == before
