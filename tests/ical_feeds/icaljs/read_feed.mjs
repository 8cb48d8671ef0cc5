// Mozilla ical.js as an independent reader of calendar feeds, for the Python tests.
//
// stdin: a JSON array of feed texts. stdout: a JSON array with, per feed, either
// {"events": [...], "shape": [[path, property], ...], "texts": [[path, property, value], ...]}
// or {"error": "..."}.
// Each feed's own VTIMEZONE components are registered with ICAL.TimezoneService (reset
// between feeds), so UTC instants come from the feed's definitions and no other tz database.
// A TZID without a VTIMEZONE in its feed is an error, never a silent floating time.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function instant(time, what) {
  if (time.isDate) {
    return { date: time.toString() };
  }
  const zone = time.zone;
  if (zone === ICAL.Timezone.utcTimezone) {
    return { utc: new Date(time.toUnixTime() * 1000).toISOString() };
  }
  if (!zone || zone === ICAL.Timezone.localTimezone) {
    return { floating: time.toString() };
  }
  const registered = ICAL.TimezoneService.get(zone.tzid);
  if (!registered || registered.component !== zone.component) {
    throw new Error(`${what}: zone ${zone.tzid} is not the feed's own VTIMEZONE`);
  }
  return { utc: new Date(time.toUnixTime() * 1000).toISOString() };
}

function alarmTrigger(alarm, event) {
  const trigger = alarm.getFirstProperty("trigger");
  if (!trigger) {
    throw new Error("VALARM without TRIGGER");
  }
  const value = trigger.getFirstValue();
  if (value instanceof ICAL.Time) {
    return instant(value, "TRIGGER");
  }
  const related = (trigger.getParameter("related") || "START").toUpperCase();
  const base = (related === "END" ? event.endDate : event.startDate).clone();
  if (base.isDate) {
    // A relative trigger on a date runs on the reader's wall clock: report it floating.
    base.isDate = false;
    base.addDuration(value);
    return { floating: base.toString() };
  }
  base.addDuration(value);
  return instant(base, "TRIGGER");
}

function shape(component, path, out, texts) {
  const here = path ? `${path}/${component.name.toUpperCase()}` : component.name.toUpperCase();
  for (const property of component.getAllProperties()) {
    out.push([here, property.name.toUpperCase()]);
    if (property.type === "text") {
      texts.push([here, property.name.toUpperCase(), String(property.getFirstValue())]);
    }
  }
  for (const child of component.getAllSubcomponents()) {
    shape(child, here, out, texts);
  }
  return out;
}

function referencedZones(component, out) {
  for (const property of component.getAllProperties()) {
    const tzid = property.getParameter("tzid");
    if (tzid) {
      out.add(tzid);
    }
  }
  for (const child of component.getAllSubcomponents()) {
    referencedZones(child, out);
  }
  return out;
}

function readFeed(text) {
  ICAL.TimezoneService.reset();
  const calendar = new ICAL.Component(ICAL.parse(text));
  if (calendar.name !== "vcalendar") {
    throw new Error(`top-level component is ${calendar.name}, not VCALENDAR`);
  }
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtimezone);
  }
  for (const tzid of referencedZones(calendar, new Set())) {
    if (!ICAL.TimezoneService.has(tzid)) {
      throw new Error(`TZID ${tzid} is used but the feed has no VTIMEZONE for it`);
    }
  }
  const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    return {
      uid: event.uid,
      sequence: event.sequence,
      summary: event.summary,
      status: vevent.getFirstPropertyValue("status"),
      start: instant(event.startDate, `DTSTART of ${event.uid}`),
      end: instant(event.endDate, `DTEND of ${event.uid}`),
      alarms: vevent.getAllSubcomponents("valarm").map((alarm) => alarmTrigger(alarm, event)),
      dtstamp: vevent.hasProperty("dtstamp")
        ? instant(vevent.getFirstPropertyValue("dtstamp"), `DTSTAMP of ${event.uid}`)
        : null,
    };
  });
  const texts = [];
  return { events, shape: shape(calendar, "", [], texts), texts };
}

const feeds = JSON.parse(readFileSync(0, "utf8"));
const results = feeds.map((text) => {
  try {
    return readFeed(text);
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
});
process.stdout.write(JSON.stringify(results));
