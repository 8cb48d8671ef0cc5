"""Success means committed: a write whose commit fails answers an error, never a success, and
leaves the database as it was.

The commit is made to fail by the database itself, at COMMIT: on PostgreSQL a deferred
constraint trigger on the audit trail raises (every write writes an audit entry in its own
transaction), on SQLite a deferred foreign key from a trap table is violated. The application
used to commit after the answer had been sent, so these writes answered 201 for rows that were
then rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cli_runner import ensure_accounts, run
from sqlalchemy import inspect, text
from sqlmodel import select

from scheduler.app.demo import seed_demo
from scheduler.db import get_engine
from scheduler.kernel.sites import ensure_default_site
from scheduler.kernel.subject_state import subject_state
from scheduler.models import ApiToken
from scheduler.patients.links import live_link
from scheduler.patients.reports import report_dose
from scheduler.staff.accounts import issue_api_token
from scheduler.staff.throttle import record_failure

TODAY = "2026-03-02"  # the fixed clock's date in Shanghai
WRITES: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("POST", "/api/subjects"): (
        "nurse",
        {
            "json": {
                "subject": "S-901",
                "site": "ZJU1",
                "c1d1": "2026-03-09",
                "surgery": "2026-02-01",
                "language": "zh_CN",
            }
        },
    ),
    ("POST", "/api/subjects/{code}/doses"): (
        "nurse",
        {"code": "DEMO-002", "json": {"date": "2026-03-01", "taken": True}},
    ),
    ("POST", "/api/subjects/{code}/visits"): (
        "nurse",
        {"code": "DEMO-001", "json": {"code": "SCR", "on": TODAY}},
    ),
    ("POST", "/api/subjects/{code}/adverse-events"): (
        "nurse",
        {
            "code": "DEMO-002",
            "json": {"term": "fatigue", "grade": 1, "onset": "2026-03-01", "related": True},
        },
    ),
    ("POST", "/api/subjects/{code}/holds"): (
        "investigator",
        {"code": "DEMO-002", "json": {"start": TODAY, "reason": "grade 3 fatigue"}},
    ),
    ("POST", "/api/subjects/{code}/resumptions"): (
        "investigator",
        {"code": "DEMO-004", "json": {"on": TODAY, "dose_mg": 10}},
    ),
    ("POST", "/api/subjects/{code}/discontinuation"): (
        "investigator",
        {"code": "DEMO-002", "json": {"on": TODAY, "reason": "withdrawal"}},
    ),
    ("POST", "/api/subjects/{code}/feed"): ("nurse", {"code": "DEMO-002", "json": {}}),
    ("POST", "/api/subjects/{code}/feed/revoke"): (
        "nurse",
        {"code": "DEMO-003", "json": {"reason": "phone lost"}},
    ),
    ("PUT", "/api/subjects/{code}/reminders"): (
        "nurse",
        {
            "code": "DEMO-002",
            "json": {"opted_in": True, "channel": "email", "address": "p@example.org"},
        },
    ),
    ("POST", "/api/staff"): (
        "admin",
        {"json": {"name": "new.nurse", "role": "nurse", "password": "a-long-password"}},
    ),
    ("POST", "/api/staff/{name}/deactivate"): (
        "admin",
        {"name": "test-nurse", "json": {"reason": "left the study team"}},
    ),
    ("POST", "/api/staff/{name}/tokens"): ("admin", {"name": "test-nurse", "json": {}}),
    ("PUT", "/api/staff/{name}/sites"): (
        "admin",
        {"name": "test-nurse", "json": {"sites": ["ZJU1"], "reason": "works at ZJU1 only"}},
    ),
    ("POST", "/api/staff/{name}/unlock"): (
        "admin",
        {"name": "test-nurse", "json": {"reason": "called the help desk"}},
    ),
    ("POST", "/api/staff/{name}/tokens/{token_id}/revoke"): (
        "admin",
        {"name": "test-nurse", "json": {"reason": "laptop lost"}},
    ),
    ("POST", "/api/subjects/{code}/labs"): (
        "nurse",
        {
            "code": "DEMO-002",
            "json": {"test": "BP", "value": "135/85", "unit": "mmHg", "date": "2026-03-01"},
        },
    ),
    ("POST", "/api/subjects/{code}/labs/baselines"): (
        "investigator",
        {
            "code": "DEMO-002",
            "json": {"test": "ANC", "result_id": None, "reason": "no sample before C1D1"},
        },
    ),
    ("POST", "/api/subjects/{code}/day1/{cycle}/confirm"): (
        "investigator",
        {"code": "DEMO-002", "cycle": 2, "json": {"on": "2026-02-26"}},
    ),
    ("POST", "/api/subjects/{code}/eligibility/answers"): (
        "nurse",
        {"code": "DEMO-001", "json": {"criterion": "AGE", "answer": "80", "source": "ID card"}},
    ),
    ("POST", "/api/subjects/{code}/eligibility/waivers"): (
        "investigator",
        {"code": "DEMO-001", "json": {"criterion": "AGE", "reason": "fit, sponsor agreed"}},
    ),
    ("POST", "/api/subjects/{code}/screen-failure"): (
        "investigator",
        {"code": "DEMO-001", "json": {"on": TODAY, "reason": "age 80"}},
    ),
    ("POST", "/api/subjects/{code}/appointments"): (
        "nurse",
        {"code": "DEMO-002", "json": {"visit_code": "C3D1", "on": "2026-03-19", "at": "09:00"}},
    ),
    ("PUT", "/api/clinics/{site}"): (
        "admin",
        {"site": "ZJU1", "json": {"open_days": ["mon", "tue", "wed", "thu", "fri"]}},
    ),
    ("POST", "/api/subjects/{code}/patient-link"): ("nurse", {"code": "DEMO-002", "json": {}}),
    ("POST", "/api/subjects/{code}/patient-link/revoke"): (
        "nurse",
        {"code": "DEMO-002", "json": {"reason": "phone lost"}},
    ),
    ("POST", "/api/subjects/{code}/patient-link/alert"): (
        "nurse",
        {"code": "DEMO-002", "json": {"alert_unreported": True}},
    ),
    ("POST", "/api/subjects/{code}/patient-reports/{report_id}/review"): (
        "nurse",
        {"code": "DEMO-002", "json": {"outcome": "confirm"}},
    ),
}
DAY1_PANEL = [
    {"test": "ANC", "value": "2.1", "unit": "10^9/L", "lln": 1.8},
    {"test": "PLT", "value": "180", "unit": "10^9/L", "lln": 125},
    {"test": "TBIL", "value": "15", "unit": "umol/L", "uln": 20.5},
    {"test": "ALT", "value": "35", "unit": "U/L", "uln": 40},
    {"test": "AST", "value": "30", "unit": "U/L", "uln": 35},
    {"test": "UPRO_DIP", "value": "neg"},
    {"test": "BP", "value": "125/80", "unit": "mmHg"},
]
"""DEMO-002's results within the 3 days before its cycle 2 day 1 (2026-02-26), every one within
its limit: the computed day-1 criteria are met, so the investigator can confirm them."""
PREVIEWS = {
    ("POST", "/api/subjects/{code}/hold-preview"),
    ("POST", "/api/subjects/{code}/resume-preview"),
}
"""POST because they take a body, but they store nothing."""
SESSION_TABLES = {"staffsession", "apitoken"}
"""Reading with a token or a login may touch these; only their rows' ids are compared."""


def _snapshot(db_url: str) -> dict[str, list[Any]]:
    engine = get_engine(db_url)
    tables = [t for t in inspect(engine).get_table_names() if not t.startswith("commit_trap")]
    with engine.connect() as connection:
        return {
            table: sorted(
                (
                    (row[0],) if table in SESSION_TABLES else tuple(map(repr, row))
                    for row in connection.execute(text(f"SELECT * FROM {table}"))
                ),
                key=repr,
            )
            for table in tables
        }


def _install_trap(db_url: str, sqlstate: str) -> Callable[[], None]:
    """A database that accepts every statement and refuses the commit of any audited write."""
    engine = get_engine(db_url)
    if engine.dialect.name == "postgresql":
        statements = [
            "CREATE FUNCTION commit_trap() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION 'commit refused by the test' USING ERRCODE = '{sqlstate}'; END $$",
            "CREATE CONSTRAINT TRIGGER commit_trap AFTER INSERT ON auditentry "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION commit_trap()",
        ]
        undo = [
            "DROP TRIGGER commit_trap ON auditentry",
            "DROP FUNCTION commit_trap()",
        ]
    else:
        statements = [
            "CREATE TABLE commit_trap_target (id INTEGER PRIMARY KEY)",
            "CREATE TABLE commit_trap (ref INTEGER REFERENCES commit_trap_target (id) "
            "DEFERRABLE INITIALLY DEFERRED)",
            "CREATE TRIGGER commit_trap AFTER INSERT ON auditentry "
            "BEGIN INSERT INTO commit_trap VALUES (-1); END",
        ]
        undo = [
            "DROP TRIGGER commit_trap",
            "DROP TABLE commit_trap",
            "DROP TABLE commit_trap_target",
        ]
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)

    def remove() -> None:
        with engine.begin() as connection:
            for statement in undo:
                connection.exec_driver_sql(statement)

    return remove


@pytest.fixture
def refusing_commits(db_url: str) -> Iterator[Callable[[str], None]]:
    removers: list[Callable[[], None]] = []

    def install(sqlstate: str = "40001") -> None:
        removers.append(_install_trap(db_url, sqlstate))

    yield install
    for remove in removers:
        remove()


def _clients(staff_client):
    return {role: staff_client(role) for role in ("nurse", "investigator", "admin")}


def _call(clients, method: str, path: str, token_id: int = 0) -> Any:
    role, args = WRITES[(method, path)]
    url = path.format(
        code=args.get("code", ""),
        name=args.get("name", ""),
        cycle=args.get("cycle", ""),
        site=args.get("site", ""),
        token_id=token_id,
        report_id=token_id,
    )
    return clients[role].request(method, url, json=args["json"])


def _prepare(clients, units, path: str) -> int:
    """What a write needs to exist before it (a live link, a failed login, a token, the
    results a day-1 check is computed from, a criterion not met): made before the database
    starts refusing commits. Returns the token id for a revocation, the report id for a
    review."""
    if path.endswith("/feed/revoke"):
        assert clients["nurse"].post("/api/subjects/DEMO-003/feed", json={}).status_code == 201
    if path.endswith("/confirm"):
        for result in DAY1_PANEL:
            answer = clients["nurse"].post(
                "/api/subjects/DEMO-002/labs", json={**result, "date": "2026-02-25"}
            )
            assert answer.status_code == 201, answer.text
    if path.endswith(("/eligibility/waivers", "/screen-failure")):
        answer = {"criterion": "AGE", "answer": "80", "source": "ID card"}
        response = clients["nurse"].post("/api/subjects/DEMO-001/eligibility/answers", json=answer)
        assert response.status_code == 201, response.text
    if path.endswith("/appointments"):
        clinic = {"open_days": ["mon", "tue", "wed", "thu", "fri"]}
        assert clients["admin"].put("/api/clinics/ZJU1", json=clinic).status_code == 200
    if "/patient-link/" in path or path.endswith("/review"):
        issued = clients["nurse"].post("/api/subjects/DEMO-002/patient-link", json={})
        assert issued.status_code == 201, issued.text
    if path.endswith("/review"):
        with units("patient") as unit:
            state = subject_state(unit.session, "DEMO-002", unit.now)
            link = live_link(unit.session, state.subject.id or 0)
            sent = report_dose(unit, state, link, on=state.today, taken=False, at=None)
            return sent.report.id or 0
    if path.endswith("/unlock"):
        with units("login-form") as unit:
            record_failure(unit, "test-nurse", "127.0.0.1")
    if path.endswith("/revoke") and "{token_id}" in path:
        with units("admin-setup") as unit:
            issue_api_token(unit, "test-nurse", label="to revoke")
            return max(t.id or 0 for t in unit.session.exec(select(ApiToken)))
    return 0


def test_every_write_endpoint_of_the_api_is_covered_here(web_app):
    schema = web_app.openapi()["paths"]
    writes = {
        (method.upper(), path)
        for path, operations in schema.items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    }
    assert writes == set(WRITES) | PREVIEWS


@pytest.mark.parametrize(("method", "path"), sorted(WRITES))
def test_a_write_whose_commit_fails_answers_an_error_and_stores_nothing(
    web_app, staff_client, units, db_url, refusing_commits, method, path
):
    clients = _clients(staff_client)
    token_id = _prepare(clients, units, path)
    before = _snapshot(db_url)
    refusing_commits("40001")
    answer = _call(clients, method, path, token_id)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["field"] == "record"
    assert _snapshot(db_url) == before


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_commit_the_database_cannot_make_answers_503_with_a_retry_hint(
    web_app, staff_client, db_url, refusing_commits
):
    clients = _clients(staff_client)
    before = _snapshot(db_url)
    refusing_commits("53100")  # disk full
    answer = _call(clients, "POST", "/api/subjects/{code}/doses")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"].isdigit()
    assert answer.json()["error"]["field"] == "database"
    assert _snapshot(db_url) == before


def test_a_page_form_whose_commit_fails_shows_an_error_not_a_notice(
    web_app, staff_client, db_url, refusing_commits
):
    nurse = staff_client("nurse")
    refusing_commits()
    before = _snapshot(db_url)
    answer = nurse.form("/subjects/DEMO-002/doses", {"date": "2026-03-01", "outcome": "taken"})
    assert answer.status_code == 409
    assert "Dose recorded" not in answer.text
    assert _snapshot(db_url) == before


def test_a_cli_write_whose_commit_fails_prints_no_success(db_url, units, settings, capsys):
    with units() as unit:
        seed_demo(unit, ensure_default_site(unit, settings))
    ensure_accounts(db_url)
    before = _snapshot(db_url)
    remove = _install_trap(db_url, "40001")
    try:
        status, out, err = run(
            capsys, "dose", "DEMO-002", "--date", "2026-03-01", "--taken", "--db", db_url
        )
    finally:
        remove()
    assert (status, out) == (2, "")
    assert err.startswith("error: record:")
    assert _snapshot(db_url) == before
