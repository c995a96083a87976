// python3-caldav against a real server (SQLite): discovery, calendars and task lists, recurring events with an exception, time-range queries, deletes.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Session, startTestServer, type TestServer } from '../helpers/test-server.js';
import { pythonWithCaldav, run } from './real-clients.js';

const SCRIPT = String.raw`
import json, sys, datetime
import caldav

url, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
client = caldav.DAVClient(url=url, username=user, password=password)
principal = client.principal()
out["calendars"] = sorted(str(c.url) for c in principal.calendars())

work = principal.make_calendar(name="Work", cal_id="work")
todo_list = principal.make_calendar(name="Chores", cal_id="chores", supported_calendar_component_set=["VTODO"])
out["work_name"] = work.get_display_name()

weekly = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//caldav//EN
BEGIN:VEVENT
UID:weekly-standup
DTSTAMP:20260101T000000Z
DTSTART:20260105T090000Z
DTEND:20260105T093000Z
RRULE:FREQ=WEEKLY;COUNT=6
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:weekly-standup
DTSTAMP:20260101T000000Z
RECURRENCE-ID:20260112T090000Z
DTSTART:20260113T150000Z
DTEND:20260113T153000Z
SUMMARY:Standup (moved)
END:VEVENT
END:VCALENDAR
"""
single = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//caldav//EN
BEGIN:VEVENT
UID:dentist
DTSTAMP:20260101T000000Z
DTSTART:20260301T100000Z
DTEND:20260301T110000Z
SUMMARY:Dentist
END:VEVENT
END:VCALENDAR
"""
task = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//caldav//EN
BEGIN:VTODO
UID:buy-milk
DTSTAMP:20260101T000000Z
DUE:20260110T170000Z
SUMMARY:Buy milk
END:VTODO
END:VCALENDAR
"""
work.save_event(weekly)
work.save_event(single)
todo_list.save_todo(task)

out["events"] = sorted(e.icalendar_component["uid"] for e in work.events())
out["todos"] = [t.icalendar_component["summary"] for t in todo_list.todos()]
fetched = work.event_by_uid("weekly-standup")
out["fetched_has_exception"] = "Standup (moved)" in fetched.data

# Week of 12 January: only the moved instance (13 January, 15:00) falls in it.
found = work.search(start=datetime.datetime(2026, 1, 12, tzinfo=datetime.timezone.utc), end=datetime.datetime(2026, 1, 19, tzinfo=datetime.timezone.utc), event=True, expand=True)
out["week2"] = sorted((str(e.icalendar_component["summary"]), e.icalendar_component["dtstart"].dt.isoformat()) for e in found)
found = work.search(start=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc), end=datetime.datetime(2026, 2, 28, tzinfo=datetime.timezone.utc), event=True, expand=True)
out["jan_feb_instances"] = len(found)
found = work.search(start=datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc), end=datetime.datetime(2026, 3, 2, tzinfo=datetime.timezone.utc), event=True)
out["march"] = sorted(str(e.icalendar_component["uid"]) for e in found)

work.event_by_uid("dentist").delete()
out["after_delete"] = sorted(e.icalendar_component["uid"] for e in work.events())
print(json.dumps(out))
`;

describe('python3-caldav against Keepsake', () => {
  let server: TestServer;
  let ada: Session;
  let python: string;

  before(async () => {
    python = pythonWithCaldav();
    server = await startTestServer({ kind: 'sqlite' });
    ada = await server.login('ada');
  });
  after(() => server?.close());

  it('discovers, creates calendars and task lists, saves, queries by time range with expansion, and deletes', async () => {
    const script = join(server.dir, 'client.py');
    await writeFile(script, SCRIPT);
    const r = await run(python, [script, `${server.url}/dav/`, 'ada', ada.password]);
    assert.equal(r.code, 0, `caldav script failed:\n${r.stderr}\n${r.stdout}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual(out.calendars, [`${server.url}/dav/ada/calendar/`, `${server.url}/dav/ada/tasks/`]);
    assert.equal(out.work_name, 'Work');
    assert.deepEqual(out.events, ['dentist', 'weekly-standup']);
    assert.deepEqual(out.todos, ['Buy milk']);
    assert.equal(out.fetched_has_exception, true);
    assert.deepEqual(out.week2, [['Standup (moved)', '2026-01-13T15:00:00+00:00']]);
    assert.equal(out.jan_feb_instances, 6);
    assert.deepEqual(out.march, ['dentist']);
    assert.deepEqual(out.after_delete, ['weekly-standup']);

    // One store, two doors: the JSON API sees the same items, and the delete went to the trash.
    const cols = (await ada.call('GET', '/api/v1/collections')).body.collections;
    assert.deepEqual(cols.filter((c: { id: string }) => c.id === 'work' || c.id === 'chores').map((c: { kind: string }) => c.kind).sort(), ['calendar', 'tasks']);
    const item = (await ada.call('GET', '/api/v1/items/work/weekly-standup')).body;
    const got = await fetch(`${server.url}/dav/ada/work/weekly-standup.ics`, { headers: { authorization: `Bearer ${ada.token}` } });
    assert.equal(got.headers.get('etag'), `"${item.hash}"`);
    assert.equal(await got.text(), item.content, 'DAV returns the stored bytes');
    const trash = (await ada.call('GET', '/api/v1/trash')).body.items;
    assert.deepEqual(trash.map((t: { id: string }) => t.id), ['dentist']);
  });
});
