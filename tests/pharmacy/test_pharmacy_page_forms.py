"""A pharmacist records from the pharmacy pages: prepared, relabelled, dispensed with lot and
expiry, capsules counted back, discrepancies reviewed. Each test submits the form the page
rendered (its hidden fields and CSRF token as shown) with what a person would type. The fixed
clock reads 2026-03-02; the demo is seeded relative to it."""

import re
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlmodel import select

from scheduler.models import AuditEntry, Dispensing, DrugReturn, Preparation
from scheduler.pharmacy.accountability import dispense, prepare
from scheduler.subjects.treatment import hold, resume


class _Forms(HTMLParser):
    """Every form of a page by id: where it posts and what it would send as shown."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, tuple[str, dict[str, str]]] = {}
        self._fields: dict[str, str] | None = None
        self._select = ""

    def handle_starttag(self, tag, attrs):
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._fields = {}
            self.forms[found.get("id", "")] = (found.get("action", ""), self._fields)
        elif self._fields is None:
            return
        elif tag == "input" and "name" in found:
            self._fields[found["name"]] = found.get("value", "")
        elif tag == "select":
            self._select = found["name"]
        elif (
            tag == "option"
            and self._select
            and ("selected" in found or self._select not in self._fields)
        ):
            self._fields[self._select] = found["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = ""


def submit(client, page, form_id, **typed):
    """Post the form ``form_id`` of ``page`` as a browser would, with ``typed`` filled in."""
    parser = _Forms()
    parser.feed(page.text)
    assert form_id in parser.forms, f"the page has no form {form_id}"
    action, shown = parser.forms[form_id]
    return client.post(action, data={**shown, **typed})


def status_of(page, subject, cycle):
    row = re.search(rf'<tr id="row-{subject}-{cycle}">.*?</tr>', page.text, re.S)
    assert row, f"no row for {subject} cycle {cycle}"
    return re.search(r'<td class="status">([^<]*)</td>', row.group(0)).group(1)


def count(units, table):
    with units() as unit:
        return len(unit.session.exec(select(table)).all())


@pytest.fixture
def pharmacist(staff_client):
    return staff_client("pharmacist")


def test_a_pharmacist_marks_a_cycle_prepared_and_the_row_says_so(pharmacist, units):
    page = pharmacist.get("/pharmacy")
    assert status_of(page, "DEMO-001", 1) == "to prepare"
    done = submit(pharmacist, page, "prepare-DEMO-001-1")
    assert done.status_code == 200 and done.url.path == "/pharmacy"
    assert status_of(done, "DEMO-001", 1) == "prepared"
    assert "DEMO-001 cycle 1: marked prepared." in done.text
    with units() as unit:
        stored = unit.session.exec(select(Preparation)).one()
    assert (stored.cycle, stored.capsule_count, stored.recorded_by) == (1, 14, "test-pharmacist")


def test_dispensing_with_lot_and_expiry_shows_on_the_list_and_in_the_audit_trail(pharmacist):
    submit(pharmacist, pharmacist.get("/pharmacy"), "prepare-DEMO-003-4")
    page = pharmacist.get("/pharmacy")
    done = submit(pharmacist, page, "dispense-DEMO-003-4-10", lot="AN2026-031", expiry="2027-06-30")
    assert status_of(done, "DEMO-003", 4) == "dispensed"
    assert "14 x 10 mg, lot AN2026-031, expires 2027-06-30" in done.text
    trail = pharmacist.get("/audit", params={"subject": "DEMO-003"}).text
    entry = re.search(
        r"<tr><td>[^<]*</td><td>test-pharmacist</td><td>dispensing.record.*?</tr>", trail, re.S
    )
    assert entry and "AN2026-031" in entry.group(0) and "2027-06-30" in entry.group(0)


def test_an_expired_lot_is_refused_next_to_the_expiry_field_and_nothing_is_stored(
    pharmacist, units
):
    submit(pharmacist, pharmacist.get("/pharmacy"), "prepare-DEMO-003-4")
    entries = count(units, AuditEntry)
    refused = submit(
        pharmacist,
        pharmacist.get("/pharmacy"),
        "dispense-DEMO-003-4-10",
        lot="AN2025-007",
        expiry="2026-03-01",
    )
    assert refused.status_code == 422
    assert re.search(
        r'id="dispense-DEMO-003-4-10-expiry-error" role="alert">lot expired on 2026-03-01, '
        r"before the dispensing date 2026-03-02<",
        refused.text,
    )
    assert 'value="AN2025-007"' in refused.text  # what was typed is kept
    assert status_of(refused, "DEMO-003", 4) == "prepared"
    assert count(units, Dispensing) == 0 and count(units, AuditEntry) == entries


def test_relabelling_after_a_plan_change_needs_a_reason(pharmacist, units):
    with units("test-investigator") as unit:
        prepare(unit, "DEMO-002", cycle=3)
        hold(unit, "DEMO-002", start=date(2026, 3, 1), reason="grade 3 hand-foot syndrome")
        resume(unit, "DEMO-002", on=date(2026, 3, 2), dose_mg=10, reason="grade 1 now")
    week = {"end": "2026-03-20"}
    page = pharmacist.get("/pharmacy", params=week)
    assert status_of(page, "DEMO-002", 3) == "prepared, plan changed"
    entries = count(units, AuditEntry)

    refused = submit(pharmacist, page, "prepare-DEMO-002-3")
    assert refused.status_code == 409
    assert re.search(
        r'id="prepare-DEMO-002-3-reason-error" role="alert">[^<]*give a reason to correct it<',
        refused.text,
    )
    assert count(units, AuditEntry) == entries

    done = submit(pharmacist, page, "prepare-DEMO-002-3", reason="reduced to 10 mg")
    assert done.url.params["end"] == "2026-03-20"  # back to the same list
    assert status_of(done, "DEMO-002", 3) == "prepared"
    assert "on shelf: 14 x 10 mg" in done.text


def test_capsules_counted_back_show_a_discrepancy_until_it_is_reviewed(pharmacist, units):
    with units("test-pharmacist") as unit:
        dispense(
            unit,
            "DEMO-003",
            cycle=3,
            on="2026-02-17",
            strength=10,
            count=14,
            lot="L1",
            expiry="2027-01-01",
            reason="prepared on paper",
        )
    page = pharmacist.get("/pharmacy")
    assert "Capsules back from cycle 3" in page.text
    counted = submit(pharmacist, page, "return-DEMO-003-3-10", count="0")
    row = re.search(r'<tr id="discrepancy-DEMO-003-3-10">.*?</tr>', counted.text, re.S).group(0)
    assert "<td>0</td><td>1</td><td>-1</td>" in row  # returned, expected, discrepancy

    refused = submit(pharmacist, counted, "review-DEMO-003-3-10", note="  ")
    assert refused.status_code == 422
    assert 'id="review-DEMO-003-3-10-note-error" role="alert">must not be empty<' in refused.text

    reviewed = submit(pharmacist, counted, "review-DEMO-003-3-10", note="one capsule lost")
    assert 'id="discrepancy-DEMO-003-3-10"' not in reviewed.text
    assert "reconciliation.review" in pharmacist.get("/audit").text


def test_a_refusal_on_the_subject_page_comes_back_to_that_page(pharmacist, units):
    with units("test-pharmacist") as unit:
        dispense(
            unit,
            "DEMO-003",
            cycle=3,
            on="2026-02-17",
            strength=10,
            count=14,
            lot="L1",
            expiry="2027-01-01",
            reason="prepared on paper",
        )
    page = pharmacist.get("/pharmacy/subjects/DEMO-003")
    assert "L1 (2027-01-01)" in page.text

    refused = submit(pharmacist, page, "return", cycle="3", count="20")
    assert refused.status_code == 422 and "DEMO-003: drug accountability" in refused.text
    assert 'id="return-count-error" role="alert">20 returned but only 14 were dispensed<' in (
        refused.text
    )
    assert count(units, DrugReturn) == 0

    done = submit(pharmacist, page, "return", cycle="3", count="1")
    assert done.url.path == "/pharmacy/subjects/DEMO-003"
    assert "DEMO-003 cycle 3: returned capsules counted." in done.text
    row = re.search(r'<tr id="cycle-3-10">.*?</tr>', done.text, re.S).group(0)
    # returned, taken, expected back, discrepancy
    assert re.search(r"<td>1 on 2026-03-02</td><td>13</td><td>1</td>\s*<td>0</td>", row)


def test_preparing_for_a_subject_on_hold_is_refused_with_the_reason_and_stores_nothing(
    pharmacist, units
):
    refused = pharmacist.form(
        "/pharmacy/subjects/DEMO-004/preparations", {"cycle": "3", "form": "prepare-DEMO-004-3"}
    )
    assert refused.status_code == 409
    assert "Nothing was recorded" in refused.text and "do not prepare: dosing is on hold" in (
        refused.text
    )
    assert count(units, Preparation) == 0
