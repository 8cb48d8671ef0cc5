"""Three independent calendar consumers that read a feed back, each into the same plain view.

The feed code and these readers share nothing but RFC 5545: a test renders a feed, lets each
consumer read it as a subscribed calendar would, and compares the consumer's view with the plan.

- ``icalendar``: the icalendar library parses, recurring-ical-events expands over a window and
  icalendar's alarm code computes trigger times. icalendar resolves an IANA TZID with zoneinfo,
  by name, so this reader also rebuilds every zone from the feed's own VTIMEZONE and refuses a
  feed whose VTIMEZONE gives another instant than the tz database.
- ``icaljs``: Mozilla ical.js under node (``icaljs/read_feed.mjs``), with only the feed's own
  VTIMEZONEs registered in ICAL.TimezoneService; ical.js has no tz database of its own.
- ``khal``: vdirsyncer subscribes to the served URL (http storage, read-only) and syncs into a
  filesystem vdir; khal, configured for UTC, lists the events as JSON. khal shows no SEQUENCE
  and only relative DISPLAY alarms (taken from the start even when RELATED=END), and like
  icalendar it resolves IANA TZIDs by name.

Views hold UTC-aware datetimes for timed values, dates for all-day values and naive datetimes
for floating values (no zone at all), so a floating time never equals an expected instant.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import icalendar
import recurring_ical_events
from icalendar.alarms import Alarms

from calendars import FeedOptions, Identity
from scheduler.core import Plan
from scheduler.core.plan import format_dose

ICALJS_DIR = Path(__file__).parent / "icaljs"
VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"

Instant = datetime | date
"""UTC-aware datetime (timed), date (all-day) or naive datetime (floating)."""


class ConsumerError(Exception):
    """A consumer could not read a feed, or read something RFC 5545 does not allow."""


@dataclass(frozen=True, slots=True)
class EventView:
    """One VEVENT as a consumer shows it. ``None`` marks a field the consumer cannot report."""

    uid: str | None
    sequence: int | None
    summary: str
    status: str
    start: Instant
    end: Instant
    alarms: tuple[Instant, ...] | None
    dtstamp: datetime | None = field(default=None, compare=False)
    """DTSTAMP in UTC (icalendar and ical.js), for clients that merge; not part of the view."""

    def seen_by(self, consumer: Consumer) -> EventView:
        """This view with the fields ``consumer`` cannot report blanked, for comparison."""
        return replace(
            self,
            uid=self.uid if "uid" in consumer.reports else None,
            sequence=self.sequence if "sequence" in consumer.reports else None,
            alarms=self.alarms if "alarms" in consumer.reports else None,
        )


@dataclass(frozen=True, slots=True)
class FeedView:
    """What one consumer read from one feed.

    ``shape`` is every (component path, property name) pair in the feed, e.g.
    ("VCALENDAR/VEVENT", "SUMMARY"), sorted; None when the consumer cannot list them.
    """

    events: tuple[EventView, ...]
    shape: tuple[tuple[str, str], ...] | None = None

    def by_uid(self) -> dict[str, EventView]:
        return {event.uid: event for event in self.events if event.uid is not None}


def canonical(events: Iterable[EventView]) -> tuple[EventView, ...]:
    """Events in a canonical order, so that views compare as multisets (status and alarms
    break ties between untitled events of one day that a consumer reports without a uid)."""
    return tuple(
        sorted(
            events,
            key=lambda e: (
                str(e.start),
                str(e.end),
                e.summary,
                e.uid or "",
                e.status,
                str(e.alarms),
            ),
        )
    )


def _utc(value: datetime, zones: Mapping[str, tzinfo], what: str) -> datetime:
    """The UTC instant of an aware value, checked against the feed's own VTIMEZONE.

    icalendar looks an IANA TZID up in zoneinfo, so this also rebuilds the zone from the feed's
    VTIMEZONE and requires it to give the tz database's UTC offset at the instant (comparing
    offsets at an instant, not readings of a wall time, leaves gap and fold policies out: the
    zones icalendar builds from a VTIMEZONE read a wall time by comparing wall times).
    """
    key = getattr(value.tzinfo, "key", None)
    if key is None or key == "UTC":
        return value.astimezone(UTC)
    if key not in zones:
        raise ConsumerError(f"{what}: TZID {key} is used but the feed has no VTIMEZONE for it")
    by_database = value.astimezone(UTC)
    offset = by_database.astimezone(value.tzinfo).utcoffset()
    by_feed = by_database.astimezone(zones[key]).utcoffset()
    if by_feed != offset:
        raise ConsumerError(
            f"{what}: at {by_database:%Y-%m-%d %H:%M}Z the feed's VTIMEZONE {key} gives UTC "
            f"offset {_hours(by_feed)}, the tz database {_hours(offset)}"
        )
    return by_database


def _hours(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _instant(value: date, zones: Mapping[str, tzinfo], what: str) -> Instant:
    if not isinstance(value, datetime) or value.tzinfo is None:
        return value
    return _utc(value, zones, what)


def _alarm_triggers(event: icalendar.Event, zones: Mapping[str, tzinfo]) -> tuple[Instant, ...]:
    alarms = Alarms(event)
    floating = not isinstance(event.DTSTART, datetime) or event.DTSTART.tzinfo is None
    if floating:
        # A relative trigger on a date or floating time runs on the reader's wall clock.
        alarms.set_local_timezone(UTC)
    triggers: list[Instant] = []
    for alarm in alarms.times:
        trigger = alarm.trigger
        if floating and isinstance(alarm.alarm["TRIGGER"].dt, timedelta):
            triggers.append(trigger.replace(tzinfo=None))
        else:
            triggers.append(_utc(trigger, zones, "TRIGGER"))
    return tuple(sorted(triggers, key=str))


def _shape(component: icalendar.cal.Component, path: str = "") -> list[tuple[str, str]]:
    here = f"{path}/{component.name}" if path else component.name
    pairs = [(here, name) for name, _ in component.property_items(recursive=False)]
    pairs = [(p, n) for p, n in pairs if n not in ("BEGIN", "END")]
    for child in component.subcomponents:
        pairs.extend(_shape(child, here))
    return pairs


def read_with_icalendar(feed: bytes, window: tuple[date, date]) -> FeedView:
    """The feed as icalendar + recurring-ical-events see it between ``window`` (start, end)."""
    try:
        calendar = icalendar.Calendar.from_ical(feed)
    except ValueError as error:
        raise ConsumerError(f"icalendar cannot parse the feed: {error}") from error
    if calendar.errors:
        raise ConsumerError(f"icalendar reports errors: {calendar.errors}")
    zones = {str(tz["TZID"]): tz.to_tz(lookup_tzid=False) for tz in calendar.walk("VTIMEZONE")}
    events = []
    for occurrence in recurring_ical_events.of(calendar).between(*window):
        uid = str(occurrence["UID"])
        for component in occurrence.walk():
            if component.errors:
                raise ConsumerError(f"{uid}: {component.name} has errors: {component.errors}")
        events.append(
            EventView(
                uid=uid,
                sequence=occurrence.get("SEQUENCE"),
                summary=str(occurrence.get("SUMMARY", "")),
                status=str(occurrence.get("STATUS", "")),
                start=_instant(occurrence.DTSTART, zones, f"DTSTART of {uid}"),
                end=_instant(occurrence.end, zones, f"end of {uid}"),
                alarms=_alarm_triggers(occurrence, zones),
                dtstamp=occurrence.DTSTAMP,
            )
        )
    return FeedView(events=canonical(events), shape=tuple(sorted(_shape(calendar))))


def _from_json_instant(value: Mapping[str, str]) -> Instant:
    if "utc" in value:
        return datetime.fromisoformat(value["utc"]).astimezone(UTC)
    if "date" in value:
        return date.fromisoformat(value["date"])
    return datetime.fromisoformat(value["floating"])


def _stamp(value: Mapping[str, str] | None) -> datetime | None:
    instant = _from_json_instant(value) if value else None
    return instant if isinstance(instant, datetime) else None


def icaljs_available() -> str | None:
    """Why ical.js cannot run here, or None when node and npm are present."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not found on PATH" if missing else None


def install_icaljs() -> None:
    """``npm ci`` the pinned ical.js into icaljs/node_modules, unless it is there already."""
    installed = ICALJS_DIR / "node_modules" / "ical.js" / "package.json"
    pinned = json.loads((ICALJS_DIR / "package.json").read_text())["dependencies"]["ical.js"]
    if installed.exists() and json.loads(installed.read_text())["version"] == pinned:
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=ICALJS_DIR,
        check=True,
        capture_output=True,
        timeout=300,
    )


def read_with_icaljs(feeds: Sequence[bytes]) -> list[FeedView | ConsumerError]:
    """Every feed as ical.js sees it, in one node process; an unreadable feed gives its error."""
    texts = [feed.decode("utf-8") for feed in feeds]
    done = subprocess.run(
        ["node", str(ICALJS_DIR / "read_feed.mjs")],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise ConsumerError(f"ical.js reader failed: {done.stderr.strip()}")
    views: list[FeedView | ConsumerError] = []
    for result in json.loads(done.stdout):
        if "error" in result:
            views.append(ConsumerError(f"ical.js: {result['error']}"))
            continue
        events = [
            EventView(
                uid=raw["uid"],
                sequence=raw["sequence"],
                summary=raw["summary"] or "",
                status=raw["status"] or "",
                start=_from_json_instant(raw["start"]),
                end=_from_json_instant(raw["end"]),
                alarms=tuple(sorted(map(_from_json_instant, raw["alarms"]), key=str)),
                dtstamp=_stamp(raw["dtstamp"]),
            )
            for raw in result["events"]
        ]
        views.append(
            FeedView(events=canonical(events), shape=tuple(sorted(map(tuple, result["shape"]))))
        )
    return views


@dataclass
class FeedServer:
    """A loopback HTTP server answering GET /<name>.ics with the bytes last published."""

    base_url: str
    feeds: dict[str, bytes] = field(default_factory=dict)

    def publish(self, name: str, feed: bytes) -> str:
        self.feeds[name] = feed
        return f"{self.base_url}/{name}.ics"


@contextmanager
def serve_feeds() -> Iterator[FeedServer]:
    """A stdlib HTTP server on 127.0.0.1 and a free port, in a thread, for the test's life."""
    feeds: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = feeds.get(self.path.removeprefix("/").removesuffix(".ics"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: requests are the test's business, not stderr's."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield FeedServer(base_url=f"http://{host}:{port}", feeds=feeds)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


_KHAL_FIELDS = ("uid", "title", "status", "all-day", "start-full", "end-full", "alarms-list")
_KHAL_DATETIME = "%Y-%m-%dT%H:%M:%S"
_KHAL_DATE = "%Y-%m-%d"


def _khal_instant(text: str, all_day: bool) -> Instant:
    shown = datetime.strptime(f"{text}+0000", f"{_KHAL_DATETIME}%z")  # khal is set to UTC
    return shown.date() if all_day else shown


class KhalSubscriptions:
    """Calendars subscribed with vdirsyncer (http -> filesystem vdir) and listed by khal.

    Each ``sync`` runs one vdirsyncer and one khal process for all subscriptions, and a second
    ``sync`` is an incremental one, as a subscribed client polling the URL again.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.urls: dict[str, str] = {}
        workdir.mkdir(parents=True, exist_ok=True)

    def subscribe(self, url: str) -> str:
        name = f"feed{len(self.urls)}"
        self.urls[name] = url
        (self.workdir / "vdirs" / name).mkdir(parents=True)
        self._write_configs()
        return name

    def _write_configs(self) -> None:
        pairs = []
        for name, url in self.urls.items():
            pairs.append(
                f'[pair {name}]\na = "{name}_remote"\nb = "{name}_local"\ncollections = null\n\n'
                f'[storage {name}_remote]\ntype = "http"\nurl = "{url}"\n\n'
                f'[storage {name}_local]\ntype = "filesystem"\n'
                f'path = "{self.workdir / "vdirs" / name}"\nfileext = ".ics"\n'
            )
        (self.workdir / "vdirsyncer.conf").write_text(
            f'[general]\nstatus_path = "{self.workdir / "status"}"\n\n' + "\n".join(pairs)
        )
        calendars = "".join(
            f"[[{name}]]\npath = {self.workdir / 'vdirs' / name}\nreadonly = True\n"
            for name in self.urls
        )
        (self.workdir / "khal.conf").write_text(
            f"[calendars]\n{calendars}\n"
            "[locale]\n"
            "local_timezone = UTC\ndefault_timezone = UTC\n"
            f"timeformat = %H:%M:%S\ndateformat = {_KHAL_DATE}\n"
            f"longdateformat = {_KHAL_DATE}\ndatetimeformat = {_KHAL_DATETIME}\n"
            f"longdatetimeformat = {_KHAL_DATETIME}\n\n"
            f"[sqlite]\npath = {self.workdir / 'khal.db'}\n"
        )

    def _run(self, *command: str) -> str:
        env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "TZ": "UTC"}
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, check=False, timeout=120
        )
        if done.returncode != 0:
            raise ConsumerError(f"{Path(command[0]).name} failed: {done.stderr.strip()}")
        return done.stdout + "\n" + done.stderr

    def sync(self, window: tuple[date, date]) -> dict[str, FeedView]:
        """Poll every URL, then list each calendar's events between ``window`` (start, end)."""
        config = str(self.workdir / "vdirsyncer.conf")
        vdirsyncer = str(VENV_BIN / "vdirsyncer")
        self._run(vdirsyncer, "-c", config, "discover")
        self._run(vdirsyncer, "-c", config, "sync")
        listing = self._run(
            str(VENV_BIN / "khal"),
            "-c",
            str(self.workdir / "khal.conf"),
            "list",
            "--day-format",
            "",
            *(arg for name in (*_KHAL_FIELDS, "calendar") for arg in ("--json", name)),
            window[0].strftime(_KHAL_DATE),
            window[1].strftime(_KHAL_DATE),
        )
        # Not --once: it keys on khal's UID, which vdirsyncer's http storage replaces with a
        # hash of the event's content, so equal events of two calendars would show once.
        # An event is listed on every day it touches instead, and kept once here.
        events: dict[str, list[EventView]] = {name: [] for name in self.urls}
        listed: set[tuple[str, str, str]] = set()
        for line in listing.splitlines():
            line = line.strip()
            if not line:
                continue
            if not line.startswith("["):
                raise ConsumerError(f"khal said: {line}")
            for raw in json.loads(line):
                key = (raw["calendar"], raw["uid"], raw["start-full"])
                if key not in listed:
                    listed.add(key)
                    events[raw["calendar"]].append(self._view(raw))
        return {name: FeedView(events=canonical(found)) for name, found in events.items()}

    @staticmethod
    def _view(raw: Mapping[str, str]) -> EventView:
        all_day = raw["all-day"] == "True"
        start = _khal_instant(raw["start-full"], all_day)
        end = _khal_instant(raw["end-full"], all_day)
        if isinstance(end, date) and not isinstance(end, datetime):
            end += timedelta(days=1)  # khal shows the last day; RFC 5545 DTEND is exclusive
        alarms_list = raw["alarms-list"]
        alarms = ast.literal_eval(alarms_list) if isinstance(alarms_list, str) else alarms_list
        triggers: list[Instant] = []
        for alarm in alarms:
            trigger = (
                datetime.combine(start, datetime.min.time())
                if not isinstance(start, datetime)
                else start
            ) + timedelta(seconds=alarm["delta"])
            triggers.append(trigger)
        return EventView(
            uid=None,
            sequence=None,
            summary=raw["title"],
            status=raw["status"],
            start=start,
            end=end,
            alarms=tuple(sorted(triggers, key=str)),
        )


@dataclass(frozen=True, slots=True)
class Consumer:
    name: str
    reports: frozenset[str]


ICALENDAR = Consumer("icalendar", frozenset({"uid", "sequence", "alarms", "shape"}))
ICALJS = Consumer("icaljs", frozenset({"uid", "sequence", "alarms", "shape"}))
KHAL = Consumer("khal", frozenset({"alarms"}))
CONSUMERS = (ICALENDAR, ICALJS, KHAL)


@dataclass
class FeedConsumers:
    """The three consumers, ready: ical.js installed, a loopback server, a khal workdir."""

    server: FeedServer
    workdir: Path
    _batches: int = 0

    def read(
        self, feeds: Sequence[bytes], window: tuple[date, date]
    ) -> list[dict[Consumer, FeedView | ConsumerError]]:
        """Each feed read by all three consumers (khal through its served URL, all feeds in one
        vdirsyncer and one khal run). A consumer that cannot read a feed gives its error."""
        self._batches += 1
        khal = KhalSubscriptions(self.workdir / f"khal{self._batches}")
        names = [
            khal.subscribe(self.server.publish(f"b{self._batches}f{i}", feed))
            for i, feed in enumerate(feeds)
        ]
        by_khal: dict[str, FeedView] | ConsumerError
        try:
            by_khal = khal.sync(window)
        except ConsumerError as error:
            by_khal = error
        by_icaljs = read_with_icaljs(feeds)
        views = []
        for feed, name, icaljs in zip(feeds, names, by_icaljs, strict=True):
            by_icalendar: FeedView | ConsumerError
            try:
                by_icalendar = read_with_icalendar(feed, window)
            except ConsumerError as error:
                by_icalendar = error
            views.append(
                {
                    ICALENDAR: by_icalendar,
                    ICALJS: icaljs,
                    KHAL: by_khal if isinstance(by_khal, ConsumerError) else by_khal[name],
                }
            )
        return views

    def read_urls(self, urls: Sequence[str], window: tuple[date, date]) -> list[FeedView]:
        """khal's view of feeds served elsewhere (the real app on loopback)."""
        self._batches += 1
        khal = KhalSubscriptions(self.workdir / f"khal{self._batches}")
        names = [khal.subscribe(url) for url in urls]
        by_khal = khal.sync(window)
        return [by_khal[name] for name in names]


def seen(view: FeedView | ConsumerError) -> FeedView:
    """The view, or the consumer's error raised (so a test fails with what went wrong)."""
    if isinstance(view, ConsumerError):
        raise view
    return view


# -- what the plan says a subscribed client must show ----------------------------------------


def _dose_instant(plan: Plan, on: date, at: time) -> datetime:
    """zoneinfo's instant of a local date and time, fold=0 (gap: shifted forward; fold: the
    first occurrence)."""
    return datetime.combine(on, at, tzinfo=plan.anchors.time_zone).astimezone(UTC)


@dataclass(frozen=True)
class PlannedEvent:
    """What the plan says one event must show; ``words`` must appear in its title."""

    view: EventView
    words: tuple[str, ...]
    title_starts: str = ""


def _dropped_out(plan: Plan, identity: Identity) -> bool:
    """A held or cancelled item stays 30 days after it last changed, then drops out."""
    return (plan.today - identity.revised.astimezone(UTC).date()).days > 30


def planned_events(
    plan: Plan, identities: Mapping[tuple[str, str], Identity], options: FeedOptions
) -> list[PlannedEvent]:
    """What the plan says a subscribed client must show, keyed by the stored identities."""
    events = []
    for slot in plan.doses():
        identity = identities[(plan.subject, f"dose:{slot.key}")]
        start = _dose_instant(plan, slot.date, slot.time)
        cancelled = slot.status in ("held", "cancelled")
        status = "CANCELLED" if cancelled else "TENTATIVE" if slot.tentative else "CONFIRMED"
        if cancelled and _dropped_out(plan, identity):
            continue
        alarmed = slot.status == "planned" and not slot.tentative
        # The patient's count of dosing days, never a staff code such as "C2 D8".
        days = plan.protocol.schedule.dosing_days
        label = f"day {days.index(slot.day) + 1} of {len(days)}"
        events.append(
            PlannedEvent(
                EventView(
                    uid=identity.uid,
                    sequence=identity.sequence,
                    summary="",
                    status=status,
                    start=start,
                    end=start + timedelta(minutes=options.dose_minutes),
                    alarms=(start,) if alarmed else (),
                ),
                words=(label,) if cancelled else (label, format_dose(slot.dose_mg)),
                title_starts={"held": "HOLD - do not take", "cancelled": "CANCELLED"}.get(
                    slot.status, ""
                ),
            )
        )
    for visit in plan.visits:
        identity = identities[(plan.subject, f"visit:{visit.code}")]
        on = visit.actual or visit.target
        cancelled = visit.status == "cancelled"
        if cancelled and _dropped_out(plan, identity):
            continue
        status = "CANCELLED" if cancelled else "TENTATIVE" if visit.tentative else "CONFIRMED"
        evening_before: tuple[Instant, ...] = ()
        # Due or overdue: still to happen; a tentative date has no alarm until confirmed.
        if visit.status not in ("done", "cancelled") and not visit.tentative:
            evening_before = (datetime.combine(on - timedelta(days=1), options.visit_alarm),)
        events.append(
            PlannedEvent(
                EventView(
                    uid=identity.uid,
                    sequence=identity.sequence,
                    summary="",
                    status=status,
                    start=on,
                    end=on + timedelta(days=1),
                    alarms=evening_before,
                ),
                words=(
                    (f"first day of cycle {visit.cycle}",)
                    if visit.dispense and visit.cycle is not None
                    else (visit.name,)
                ),
                title_starts="CANCELLED" if cancelled else "",
            )
        )
    return events


def untitled(events: Iterable[EventView]) -> tuple[EventView, ...]:
    return canonical(replace(event, summary="") for event in events)


def check_titles(planned: list[PlannedEvent], shown: FeedView) -> None:
    """Each title says what the plan says: the plan's words, under the feed's template."""
    titles = {event.uid: event.summary for event in shown.events}
    for event in planned:
        title = titles[event.view.uid]
        assert title.startswith(event.title_starts), (title, event.title_starts)
        for word in event.words:
            assert word in title, (word, title)
