"""What the operator sees of the outbox: the admin page (admin role only) and
`dosing reminders status`, both listing reminders that are retrying and those given up."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from reminder_testkit import queue_rows
from sqlmodel import select

from scheduler.app.cli import main
from scheduler.app.web import create_app
from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.kernel.unit import unit_of_work
from scheduler.models import Reminder
from scheduler.reminders.channels.registry import factories
from scheduler.reminders.dispatch import Dispatcher
from scheduler.settings import Settings
from scheduler.staff.accounts import create_staff

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _dispatch(settings, now=NOW):
    clock = FixedClock(now)
    engine = get_engine(settings.database_url)
    dispatcher = Dispatcher(engine, settings, clock, factories(settings, clock))
    try:
        return dispatcher.run_once()
    finally:
        dispatcher.close()


@pytest.fixture
def outbox_with_failures(reminder_settings, smtp_receiver):
    """One reminder sent, one retrying after a 451, one given up after a 550."""
    settings = reminder_settings
    keys = queue_rows(settings.database_url, 3, NOW, channels=("email",))
    with unit_of_work(get_engine(settings.database_url), "tester") as unit:
        row = unit.session.exec(select(Reminder).where(Reminder.idempotency_key == keys[2])).one()
        row.address = "nobody@refused.invalid"
        unit.session.add(row)
    smtp_receiver.deliveries.refuse_next = 1  # the first DATA, the first row's
    assert _dispatch(settings) == {"pending": 1, "sent": 1, "failed": 1}
    return keys


def _log_in(app, role):
    with unit_of_work(get_engine(app.state.settings.database_url), "setup") as unit:
        create_staff(unit, f"test-{role}", role=role, password=PASSWORD)
    client = TestClient(app)
    form = client.get("/login").text
    response = client.post(
        "/login",
        data={
            "name": f"test-{role}",
            "password": PASSWORD,
            "csrf_token": _CSRF.search(form).group(1),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def test_the_admin_page_lists_retrying_and_given_up_reminders(
    reminder_settings, outbox_with_failures
):
    app = create_app(Settings(database_url=reminder_settings.database_url), FixedClock(NOW))
    page = _log_in(app, "admin").get("/admin/reminders")
    assert page.status_code == 200
    counts = page.text.split('id="counts"')[1].split("</table>")[0]
    assert "<td>sent</td><td>1</td>" in counts
    assert "<td>pending</td><td>1</td>" in counts
    assert "<td>failed</td><td>1</td>" in counts
    failures = page.text.split('id="failures"')[1].split("</table>")[0]
    rows = failures.split("<tr")[2:]
    assert len(rows) == 2
    retrying = next(r for r in rows if "retrying" in r)
    given_up = next(r for r in rows if "given up" in r)
    assert "451 try again later" in retrying
    assert "2026-03-02 04:01" in retrying  # next attempt after the 60 s backoff
    assert "550" in given_up and given_up.startswith(' class="cancelled"><td>3</td>')
    assert 'href="/admin/reminders"' in page.text  # in the admin's navigation


@pytest.mark.parametrize("role", ["nurse", "investigator", "pharmacist"])
def test_only_the_admin_role_sees_the_outbox(reminder_settings, role):
    app = create_app(Settings(database_url=reminder_settings.database_url), FixedClock(NOW))
    response = _log_in(app, role).get("/admin/reminders")
    assert response.status_code == 403
    assert "Reminder outbox" not in response.text


def test_the_status_command_shows_the_same_failures(
    reminder_settings, outbox_with_failures, capsys
):
    with pytest.raises(SystemExit) as exit_info:
        main(["reminders", "status", "--db", reminder_settings.database_url])
        raise SystemExit(0)
    out = capsys.readouterr().out
    assert (exit_info.value.code or 0) == 0
    assert re.search(r"^sent\s+1$", out, re.M) and re.search(r"^failed\s+1$", out, re.M)
    assert "failures (retrying or given up):" in out
    retrying = next(line for line in out.splitlines() if " retrying " in line)
    assert "2026-03-02 04:01" in retrying and "451 try again later" in retrying
    given_up = next(line for line in out.splitlines() if " given up " in line)
    assert "550" in given_up


def test_a_reminder_retried_until_the_limit_moves_from_retrying_to_given_up(
    reminder_settings, smtp_receiver, capsys
):
    settings = reminder_settings.model_copy(update={"reminder_max_attempts": 2})
    queue_rows(settings.database_url, 1, NOW, channels=("email",))
    smtp_receiver.deliveries.refuse_next = 5
    assert _dispatch(settings) == {"pending": 1}
    assert _dispatch(settings, NOW + timedelta(minutes=1)) == {"failed": 1}
    with pytest.raises(SystemExit):
        main(["reminders", "status", "--json", "--db", settings.database_url])
        raise SystemExit(0)
    out = capsys.readouterr().out
    assert '"status": "failed"' in out and '"attempts": 2' in out
