"""The subject page tells the nurse, per reminder, whether it was sent, when (in the site's
zone, Asia/Shanghai) and by which channel. DEMO-002 doses at 09:00; the fixed clock is 12:00 in
Shanghai on 2026-03-02, so today's dose reminder is due and the worker sends it."""

import io
import re

from scheduler.clock import FixedClock
from scheduler.db import get_engine
from scheduler.reminders.channels.console import ConsoleChannel
from scheduler.reminders.dispatch import Dispatcher
from scheduler.reminders.history import reminder_history
from scheduler.settings import Settings


def _send_due(db_url, clock):
    settings = Settings(database_url=db_url, user="worker")
    output = io.StringIO()
    dispatcher = Dispatcher(
        get_engine(db_url),
        settings,
        clock,
        {"console": lambda: ConsoleChannel(output)},
        senders=1,
    )
    try:
        dispatcher.run_once()
    finally:
        dispatcher.close()
    return output.getvalue()


def _rows(html: str) -> list[list[str]]:
    table = re.search(r'<table id="reminder-history">(.*?)</table>', html, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        if "<td>" in row
    ]


def test_the_page_says_which_reminder_was_sent_when_and_how(staff_client, db_url, clock):
    nurse = staff_client("nurse")
    before = nurse.get("/subjects/DEMO-002").text
    assert "No reminder queued or sent for this subject." in before
    nurse.form(
        "/subjects/DEMO-002/reminders",
        {"opted_in": "yes", "channel": "console", "address": "bed-12"},
    )
    assert "C2D5" in _send_due(db_url, FixedClock(clock.now()))
    page = nurse.get("/subjects/DEMO-002").text
    assert "Sent and to send (times in Asia/Shanghai)" in page
    rows = _rows(page)
    sent = [r for r in rows if r[0] == "dose C2D5"]
    assert sent and sent[0][2] == "sent"
    assert sent[0][3] == "2026-03-02 12:00" and sent[0][4] == "console (demo)"
    assert sent[0][1].startswith("2026-03-02 ")  # due before the 09:00 dose, local time
    assert any(r[2] == "pending" and r[3] == "" for r in rows)


def test_the_history_is_latest_due_first_in_the_sites_zone(web_app, units):
    from scheduler.reminders.outbox import set_preference

    with units() as unit:
        set_preference(unit, "DEMO-002", opted_in=True, channel="console", address="bed-12")
    with units() as unit:
        history = reminder_history(unit.session, "DEMO-002", limit=5)
    assert history.zone == "Asia/Shanghai" and len(history.reminders) == 5
    dues = [r.due for r in history.reminders]
    assert dues == sorted(dues, reverse=True)
    assert all(d.utcoffset().total_seconds() == 8 * 3600 for d in dues)
