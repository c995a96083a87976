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

  it('sync-collection with DAV:limit answers page by page: 507 on the collection and a token that resumes, missing nothing', async () => {
    const ids = ['p1', 'p2', 'p3', 'p4', 'p5'];
    await ada.call('POST', '/api/v1/collections', { id: 'paged', kind: 'contacts', name: 'Paged' });
    const put = await ada.call('POST', '/api/v1/changes', {
      changes: ids.map((id) => ({ changeId: randomUUID(), collection: 'paged', id, baseVersion: 0, content: vcard(id, `Person ${id}`) })),
    });
    for (const x of put.body.results) assert.equal(x.status, 'applied');
    const sync = async (token: string, limit?: number) => {
      const body = `<d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level>${limit ? `<d:limit><d:nresults>${limit}</d:nresults></d:limit>` : ''}<d:prop><d:getetag/></d:prop></d:sync-collection>`;
      const res = await fetch(server.url + '/dav/ada/paged/', { method: 'REPORT', headers: { ...basic('ada', ada.token), depth: '1' }, body });
      const text = await res.text();
      assert.equal(res.status, 207, text);
      const members = [...text.matchAll(/<D:response><D:href>\/dav\/ada\/paged\/([^<]+)\.vcf<\/D:href><D:(propstat|status)>(?:<D:prop>.*?<\/D:prop>)?(?:<D:status>)?([^<]*)/g)].map((m) => ({ id: m[1], status: m[2] === 'status' ? m[3] : 'changed' }));
      const truncated = /<D:href>\/dav\/ada\/paged\/<\/D:href><D:status>HTTP\/1.1 507 Insufficient Storage<\/D:status><D:error><D:number-of-matches-within-limits\/><\/D:error>/.test(text);
      return { members, truncated, token: /<D:sync-token>([^<]+)<\/D:sync-token>/.exec(text)![1] };
    };

    const seen: string[] = [];
    const gone: string[] = [];
    let page = await sync('', 2);
    let pages = 1;
    while (page.truncated) {
      assert.equal(page.members.length, 2);
      for (const m of page.members) (m.status === 'changed' ? seen : gone).push(m.id);
      if (pages === 1) {
        // Changes while paging are not missed: one already seen is deleted, one new one added.
        await ada.call('POST', '/api/v1/changes', {
          changes: [
            { changeId: randomUUID(), collection: 'paged', id: 'p6', baseVersion: 0, content: vcard('p6', 'Late') },
            { changeId: randomUUID(), collection: 'paged', id: seen[0], baseVersion: (await ada.call('GET', `/api/v1/items/paged/${seen[0]}`)).body.version, deleted: true },
          ],
        });
      }
      page = await sync(page.token, 2);
      pages++;
    }
    for (const m of page.members) (m.status === 'changed' ? seen : gone).push(m.id);
    assert.ok(pages >= 3, `paged in ${pages} requests`);
    assert.deepEqual([...new Set(seen)].sort(), [...ids, 'p6'].sort(), 'every contact was reported once paging ended');
    assert.deepEqual(gone, [seen[0]], 'the delete made while paging was reported (404)');
    assert.deepEqual((await sync(page.token)).members, [], 'the last token is up to date');

    const bad = await fetch(server.url + '/dav/ada/paged/', {
      method: 'REPORT',
      headers: { ...basic('ada', ada.token), depth: '1' },
      body: '<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:limit><d:nresults>zero</d:nresults></d:limit><d:prop><d:getetag/></d:prop></d:sync-collection>',
    });
    assert.equal(bad.status, 400);
  });

  it('addressbook-multiget of many hrefs answers each in order: kept names, missing ones and foreign paths', async () => {
    await ada.call('POST', '/api/v1/collections', { id: 'many', kind: 'contacts', name: 'Many' });
    const ids = Array.from({ length: 30 }, (_, i) => `m${i}`);
    await ada.call('POST', '/api/v1/changes', { changes: ids.map((id) => ({ changeId: randomUUID(), collection: 'many', id, baseVersion: 0, content: vcard(id, `Person ${id}`) })) });
    const put = await fetch(server.url + '/dav/ada/many/Chosen%20Name.vcf', { method: 'PUT', headers: basic('ada', ada.token), body: vcard('chosen-uid', 'Chosen') });
    assert.equal(put.status, 201);
    const hrefs = [...ids.map((id) => `/dav/ada/many/${id}.vcf`), '/dav/ada/many/Chosen%20Name.vcf', '/dav/ada/many/missing.vcf', '/dav/other/many/m1.vcf', '/dav/ada/contacts/grace.vcf'];
    const body = `<c:addressbook-multiget xmlns:d="DAV:" xmlns:c="${CR}"><d:prop><d:getetag/><c:address-data/></d:prop>${hrefs.map((h) => `<d:href>${h}</d:href>`).join('')}</c:addressbook-multiget>`;
    const res = await fetch(server.url + '/dav/ada/many/', { method: 'REPORT', headers: { ...basic('ada', ada.token), depth: '1' }, body });
    const text = await res.text();
    assert.equal(res.status, 207);
    const answers = [...text.matchAll(/<D:response><D:href>([^<]+)<\/D:href>(<D:status>[^<]+<\/D:status>)?/g)].map((m) => [m[1], m[2] ? 'missing' : 'found']);
    assert.deepEqual(answers, [
      ...ids.map((id) => [`/dav/ada/many/${id}.vcf`, 'found']),
      ['/dav/ada/many/Chosen%20Name.vcf', 'found'],
      ['/dav/ada/many/missing.vcf', 'missing'],
      ['/dav/other/many/m1.vcf', 'missing'],
      ['/dav/ada/contacts/grace.vcf', 'missing'],
    ]);
    assert.match(text, /FN:Person m29/);
    assert.match(text, /UID:chosen-uid/);
  });
});
