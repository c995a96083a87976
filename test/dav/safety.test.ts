// DAV safety: bad input changes nothing, ETag preconditions, one store with the JSON API, mass deletions recorded and undone, sync tokens across epochs.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DavService } from '../../src/core/dav/dav-service.js';
import { formatSyncToken } from '../../src/core/dav/sync-token.js';
import { vcard, vevent } from '../helpers/fixtures.js';
import { basic, type Session, startTestServer, type TestServer } from '../helpers/test-server.js';

describe('DAV safety', () => {
  let server: TestServer;
  let ada: Session;
  let userId: string;

  before(async () => {
    server = await startTestServer({ kind: 'sqlite', env: { KEEPSAKE_MASS_DELETE_MIN_ITEMS: '5' } });
    ada = await server.login('ada');
    userId = (await server.keepsake.store.findUserByName('ada'))!.id;
  });
  after(() => server?.close());

  async function dav(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
    const res = await fetch(server.url + path, { method, headers: { ...basic('ada', ada.token), ...headers }, body });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  const state = async () => JSON.stringify([await server.keepsake.store.lastSeq(userId), await server.keepsake.store.listCollections(userId, { includeDeleted: true })]);

  it('answers malformed XML, unknown reports, huge and infinite PROPFINDs and bad content with clear errors, changing nothing', async () => {
    const before = await state();
    const cases: Array<[string, string, string | undefined, Record<string, string>, number, string]> = [
      ['PROPFIND', '/dav/ada/contacts/', '<d:propfind xmlns:d="DAV:"><d:prop>', { depth: '1' }, 400, 'invalid_xml'],
      ['PROPFIND', '/dav/ada/contacts/', '<!DOCTYPE x [<!ENTITY a "aaaa">]><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>', {}, 400, 'invalid_xml'],
      ['PROPFIND', '/dav/ada/contacts/', '<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>', { depth: 'infinity' }, 403, 'propfind-finite-depth'],
      ['PROPFIND', '/dav/ada/contacts/', `<d:propfind xmlns:d="DAV:"><d:prop>${'<d:displayname/>'.repeat(100_000)}</d:prop></d:propfind>`, {}, 413, 'body_too_large'],
      ['PROPPATCH', '/dav/ada/contacts/', '<d:propertyupdate xmlns:d="DAV:"><d:set>', {}, 400, 'invalid_xml'],
      ['PROPPATCH', '/dav/ada/contacts/', `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><x:a xmlns:x="urn:x">${'<x:a>'.repeat(50_000)}${'</x:a>'.repeat(50_000)}</x:a></d:prop></d:set></d:propertyupdate>`, {}, 400, 'invalid_xml'],
      ['PROPFIND', '/dav/ada/contacts/', `<d:propfind xmlns:d="DAV:"><d:prop>${'<d:getetag/>'.repeat(30_000)}</d:prop></d:propfind>`, {}, 400, 'more than 20000 elements'],
      ['REPORT', '/dav/ada/contacts/', '<x:made-up-report xmlns:x="urn:x"/>', {}, 403, 'supported-report'],
      ['REPORT', '/dav/ada/contacts/', '<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav"/>', {}, 403, 'supported-report'],
      ['REPORT', '/dav/ada/calendar/', '<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:filter><c:comp-filter name="VCALENDAR"><c:time-range start="yesterday"/></c:comp-filter></c:filter></c:calendar-query>', {}, 400, 'invalid_xml'],
      ['PUT', '/dav/ada/contacts/x.vcf', 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:No UID\r\nEND:VCARD\r\n', {}, 403, 'valid-address-data'],
      ['PUT', '/dav/ada/calendar/t.ics', 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n', {}, 403, 'valid-calendar-data'],
      ['PUT', '/dav/ada/photos/no-such-folder/a.jpg', 'hello', {}, 409, 'parent_missing'],
      ['PUT', '/dav/ada/photos/back%5Cslash.txt', 'hello', {}, 422, 'invalid_content'],
      ['MKCOL', '/dav/ada/contacts/', undefined, {}, 405, ''],
      ['MKCOL', '/dav/ada/contacts/sub/', undefined, {}, 403, 'only photo folders nest'],
    ];
    for (const [method, path, body, headers, status, marker] of cases) {
      const r = await dav(method, path, body, headers);
      assert.equal(r.status, status, `${method} ${path}: ${r.text.slice(0, 300)}`);
      assert.ok(r.text.includes(marker), `${method} ${path} does not say ${marker}: ${r.text.slice(0, 300)}`);
    }
    // A vCard in Latin-1, not UTF-8: refused, not stored with U+FFFD in place of the é.
    const latin1 = Buffer.from('BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jose\r\nFN:Jos\u00e9\r\nEND:VCARD\r\n', 'latin1');
    const res = await fetch(`${server.url}/dav/ada/contacts/jose.vcf`, { method: 'PUT', headers: basic('ada', ada.token), body: latin1 });
    const text = await res.text();
    assert.equal(res.status, 403, text);
    assert.ok(text.includes('not UTF-8'), text);
    assert.equal(await state(), before, 'a refused request changed something');
  });

  it('honours If-Match and If-None-Match, and an item written over DAV is the same item in the JSON API, and back', async () => {
    const path = '/dav/ada/contacts/grace.vcf';
    const created = await dav('PUT', path, vcard('grace', 'Grace Hopper'), { 'if-none-match': '*' });
    assert.equal(created.status, 201);
    const etag = created.headers.get('etag')!;
    assert.equal((await dav('PUT', path, vcard('grace', 'Grace'), { 'if-none-match': '*' })).status, 412);
    assert.equal((await dav('PUT', path, vcard('grace', 'Grace'), { 'if-match': '"sha256:0000"' })).status, 412);
    assert.equal((await dav('DELETE', path, undefined, { 'if-match': '"sha256:0000"' })).status, 412);
    const item = (await ada.call('GET', '/api/v1/items/contacts/grace')).body;
    assert.equal(`"${item.hash}"`, etag);
    assert.equal(item.content, vcard('grace', 'Grace Hopper'));
    const changes = (await ada.call('GET', '/api/v1/changes')).body.changes;
    assert.deepEqual(changes.map((c: { id: string; version: number }) => [c.id, c.version]), [['grace', item.version]]);

    const updated = await dav('PUT', path, vcard('grace', 'Grace B. Hopper'), { 'if-match': etag });
    assert.equal(updated.status, 204);
    const api = (await ada.call('GET', '/api/v1/items/contacts/grace')).body;
    assert.equal(`"${api.hash}"`, updated.headers.get('etag'));
    assert.equal((await ada.call('GET', '/api/v1/items/contacts/grace/revisions')).body.revisions[0].reason, 'overwritten');

    // And back: a JSON API write is what DAV serves, with the same hash as ETag.
    await ada.call('POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: 'contacts', id: 'grace', baseVersion: api.version, content: vcard('grace', 'Amazing Grace') }] });
    const got = await dav('GET', path);
    assert.equal(got.text, vcard('grace', 'Amazing Grace'));
    assert.equal(got.headers.get('etag'), `"${(await ada.call('GET', '/api/v1/items/contacts/grace')).body.hash}"`);
  });

  it('keeps the names clients give resources when they differ from the UID', async () => {
    const put = await dav('PUT', '/dav/ada/contacts/ABC-123.vcf', vcard('urn:uuid:1111', 'Named By Client'), { 'if-none-match': '*' });
    assert.equal(put.status, 201, put.text);
    assert.equal((await dav('GET', '/dav/ada/contacts/ABC-123.vcf')).text, vcard('urn:uuid:1111', 'Named By Client'));
    assert.equal((await ada.call('GET', '/api/v1/items/contacts/urn:uuid:1111')).body.content, vcard('urn:uuid:1111', 'Named By Client'));
    const list = await dav('PROPFIND', '/dav/ada/contacts/', '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>', { depth: '1' });
    assert.match(list.text, /<D:href>\/dav\/ada\/contacts\/ABC-123.vcf<\/D:href>/);
    assert.doesNotMatch(list.text, /1111/);
    const again = await dav('PUT', '/dav/ada/contacts/other-name.vcf', vcard('urn:uuid:1111', 'Duplicate'));
    assert.equal(again.status, 403);
    assert.match(again.text, /no-uid-conflict/);
    assert.equal((await dav('PUT', '/dav/ada/contacts/ABC-123.vcf', vcard('urn:uuid:1111', 'Renamed'), { 'if-match': put.headers.get('etag')! })).status, 204);
    assert.equal((await dav('DELETE', '/dav/ada/contacts/ABC-123.vcf')).status, 204);
    assert.equal((await ada.call('GET', '/api/v1/items/contacts/urn:uuid:1111')).body.deleted, true);
  });

  it('keeps colour, description and display name set with PROPPATCH, and refuses protected properties all-or-nothing', async () => {
    const set = await dav(
      'PROPPATCH',
      '/dav/ada/calendar/',
      '<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>Family</d:displayname><a:calendar-color>#FF0000FF</a:calendar-color><c:calendar-description>Birthdays &amp; more</c:calendar-description></d:prop></d:set></d:propertyupdate>',
    );
    assert.equal(set.status, 207);
    assert.match(set.text, /200 OK/);
    const read = await dav('PROPFIND', '/dav/ada/calendar/', '<d:propfind xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:displayname/><a:calendar-color/><c:calendar-description/></d:prop></d:propfind>', { depth: '0' });
    assert.match(read.text, /<D:displayname>Family<\/D:displayname>/);
    assert.match(read.text, /calendar-color>#FF0000FF</);
    assert.match(read.text, /Birthdays &amp; more/);
    const refused = await dav('PROPPATCH', '/dav/ada/calendar/', '<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop><d:getetag>x</d:getetag><a:calendar-color>#000000</a:calendar-color></d:prop></d:set></d:propertyupdate>');
    assert.match(refused.text, /403 Forbidden/);
    assert.match(refused.text, /424 Failed Dependency/);
    assert.match((await dav('PROPFIND', '/dav/ada/calendar/', undefined, { depth: '0' })).text, /Family/);
    assert.match((await dav('PROPFIND', '/dav/ada/calendar/', '<d:propfind xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:prop><a:calendar-color/></d:prop></d:propfind>')).text, /#FF0000FF/);
  });

  it('records a mass deletion by one device, shows it in status, and undoes it with one call', async () => {
    await ada.call('POST', '/api/v1/collections', { id: 'team', kind: 'contacts', name: 'Team' });
    const ids = Array.from({ length: 10 }, (_, i) => `member${i}`);
    await ada.call('POST', '/api/v1/changes', { changes: ids.map((id) => ({ changeId: randomUUID(), collection: 'team', id, baseVersion: 0, content: vcard(id, `Member ${id}`) })) });
    const since = new Date().toISOString();
    for (const id of ids.slice(0, 8)) assert.equal((await dav('DELETE', `/dav/ada/team/${id}.vcf`)).status, 204);
    assert.equal((await ada.call('GET', '/api/v1/collections')).body.collections.find((c: { id: string }) => c.id === 'team').count, 2);

    const status = (await ada.call('GET', '/api/v1/status')).body;
    assert.equal(status.massDeletions.length, 1);
    assert.equal(status.massDeletions[0].collection, 'team');
    assert.equal(status.massDeletions[0].deletes, 8);
    assert.equal(status.massDeletions[0].device, 'test');

    // The record is in the store, not in this process: a fresh service (as after a restart) sees it.
    const k = server.keepsake;
    const fresh = new DavService(k.store, k.sync, k.photos, k.clock, { share: 0.5, minItems: 5 });
    assert.equal((await fresh.massDeletions((await k.store.getUser(userId))!))[0].deletes, 8);

    assert.equal((await ada.call('POST', '/api/v1/undo-deletes', { device: 'nobody', since })).body.restored.length, 0);
    const undo = await ada.call('POST', '/api/v1/undo-deletes', { device: status.massDeletions[0].device, since });
    assert.equal(undo.status, 200, JSON.stringify(undo.body));
    assert.equal(undo.body.restored.length, 8);
    assert.equal((await ada.call('GET', '/api/v1/collections')).body.collections.find((c: { id: string }) => c.id === 'team').count, 10);
    assert.equal((await ada.call('GET', '/api/v1/status')).body.massDeletions.length, 0);
    assert.equal((await ada.call('POST', '/api/v1/undo-deletes', { device: 'x' })).status, 400);
  });

  it('answers sync tokens from another epoch or server with DAV:valid-sync-token, so clients resync', async () => {
    const report = (token: string) =>
      dav('REPORT', '/dav/ada/contacts/', `<d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`);
    const first = await report('');
    const token = /<D:sync-token>([^<]+)<\/D:sync-token>/.exec(first.text)![1];
    await dav('PUT', '/dav/ada/contacts/linus.vcf', vcard('linus', 'Linus'));
    await dav('PUT', '/dav/ada/calendar/ev.ics', vevent('ev'));
    const next = await report(token);
    assert.equal(next.status, 207);
    assert.deepEqual([...next.text.matchAll(/<D:href>([^<]+)<\/D:href>/g)].map((m) => m[1]), ['/dav/ada/contacts/linus.vcf']);

    // A real restore bumps the epoch: the token the client holds is now from before it.
    await server.keepsake.store.bumpEpoch();
    server.keepsake.sync.forgetCaches();
    const afterRestore = await report(token);
    assert.equal(afterRestore.status, 403);
    assert.match(afterRestore.text, /<D:valid-sync-token\/>/);
    assert.match(afterRestore.text, /restored/);
    const fresh = await report('');
    assert.equal(fresh.status, 207, 'a full resync works');
    assert.match(fresh.text, /linus\.vcf/);

    const server2 = await server.keepsake.store.identity();
    const lastSeq = await server.keepsake.store.lastSeq(userId);
    for (const stale of [formatSyncToken({ ...server2, epoch: server2.epoch + 1 }, 1), formatSyncToken({ ...server2, id: randomUUID() }, 1), formatSyncToken(server2, lastSeq + 100), 'http://example.com/other-server/1']) {
      const r = await report(stale);
      assert.equal(r.status, 403, stale);
      assert.match(r.text, /<D:valid-sync-token\/>/);
    }
  });
});
