// addressbook-query text-match and calendar-query on tasks and all-day events, against a real server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { vcard } from '../helpers/fixtures.js';
import { basic, type Session, startTestServer, type TestServer } from '../helpers/test-server.js';

const CR = 'urn:ietf:params:xml:ns:carddav';
const C = 'urn:ietf:params:xml:ns:caldav';

describe('DAV queries', () => {
  let server: TestServer;
  let ada: Session;

  before(async () => {
    server = await startTestServer();
    ada = await server.login('ada');
    const ics = (kind: 'VEVENT' | 'VTODO', uid: string, lines: string[]) =>
      ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', `BEGIN:${kind}`, `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, `END:${kind}`, 'END:VCALENDAR', ''].join('\r\n');
    const r = await ada.call('POST', '/api/v1/changes', {
      changes: [
        { changeId: randomUUID(), collection: 'contacts', id: 'grace', baseVersion: 0, content: vcard('grace', 'Grace Hopper') },
        { changeId: randomUUID(), collection: 'contacts', id: 'alan', baseVersion: 0, content: vcard('alan', 'Alan Turing') },
        { changeId: randomUUID(), collection: 'tasks', id: 'due-jan', baseVersion: 0, content: ics('VTODO', 'due-jan', ['DUE:20260110T170000Z', 'SUMMARY:Due in January']) },
        { changeId: randomUUID(), collection: 'tasks', id: 'undated', baseVersion: 0, content: ics('VTODO', 'undated', ['SUMMARY:Someday']) },
        { changeId: randomUUID(), collection: 'calendar', id: 'birthday', baseVersion: 0, content: ics('VEVENT', 'birthday', ['DTSTART;VALUE=DATE:20260310', 'RRULE:FREQ=YEARLY', 'SUMMARY:Birthday']) },
      ],
    });
    for (const x of r.body.results) assert.equal(x.status, 'applied');
  });
  after(() => server?.close());

  async function report(path: string, body: string): Promise<string[]> {
    const res = await fetch(server.url + path, { method: 'REPORT', headers: { ...basic('ada', ada.token), depth: '1' }, body });
    const text = await res.text();
    assert.equal(res.status, 207, text);
    return [...text.matchAll(/<D:href>[^<]*\/([^/<]+)<\/D:href>/g)].map((m) => m[1]).sort();
  }

  it('addressbook-query matches text in FN and EMAIL, with negation and allof', async () => {
    const q = (filter: string) => report('/dav/ada/contacts/', `<c:addressbook-query xmlns:d="DAV:" xmlns:c="${CR}"><d:prop><d:getetag/></d:prop>${filter}</c:addressbook-query>`);
    assert.deepEqual(await q('<c:filter><c:prop-filter name="FN"><c:text-match>grace</c:text-match></c:prop-filter></c:filter>'), ['grace.vcf']);
    assert.deepEqual(await q('<c:filter><c:prop-filter name="FN"><c:text-match match-type="starts-with">ALAN</c:text-match></c:prop-filter></c:filter>'), ['alan.vcf']);
    assert.deepEqual(await q('<c:filter><c:prop-filter name="FN"><c:text-match negate-condition="yes">grace</c:text-match></c:prop-filter></c:filter>'), ['alan.vcf']);
    assert.deepEqual(await q('<c:filter test="allof"><c:prop-filter name="FN"><c:text-match>a</c:text-match></c:prop-filter><c:prop-filter name="EMAIL"><c:text-match>example.org</c:text-match></c:prop-filter></c:filter>'), ['alan.vcf', 'grace.vcf']);
    assert.deepEqual(await q('<c:filter><c:prop-filter name="NICKNAME"><c:is-not-defined/></c:prop-filter></c:filter>'), ['alan.vcf', 'grace.vcf']);
  });

  it('calendar-query finds tasks by due date (undated tasks always match) and yearly all-day events in later years', async () => {
    const q = (path: string, comp: string, start: string, end: string) =>
      report(path, `<c:calendar-query xmlns:d="DAV:" xmlns:c="${C}"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="${comp}"><c:time-range start="${start}" end="${end}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`);
    assert.deepEqual(await q('/dav/ada/tasks/', 'VTODO', '20260101T000000Z', '20260201T000000Z'), ['due-jan.ics', 'undated.ics']);
    assert.deepEqual(await q('/dav/ada/tasks/', 'VTODO', '20260201T000000Z', '20260301T000000Z'), ['undated.ics']);
    assert.deepEqual(await q('/dav/ada/calendar/', 'VEVENT', '20290310T000000Z', '20290311T000000Z'), ['birthday.ics']);
    assert.deepEqual(await q('/dav/ada/calendar/', 'VEVENT', '20290311T000000Z', '20290312T000000Z'), []);
  });
});
