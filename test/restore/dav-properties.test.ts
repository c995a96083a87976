// What DAV clients set survives a disaster: the names they chose for their resources and the
// properties of their collections come back with a restore, so their hrefs keep working.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackupShipper } from '../../src/backup/shipper.js';
import { DEFAULT_PRIORITY } from '../../src/core/restore/restore-plan.js';
import { prepareOnlineRestore } from '../../src/restore/online-restore.js';
import { cleanTempDirs, fileRepo, tempDir } from '../backup/backup-helpers.js';
import { vcard } from '../helpers/fixtures.js';
import { basic, startTestServer, type TestServer } from '../helpers/test-server.js';

const silent = { info() {}, warn() {}, error() {} };
const COLOR = '<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop><a:calendar-color>#FF2968FF</a:calendar-color></d:prop></d:set></d:propertyupdate>';
const ASK_COLOR = '<d:propfind xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:prop><a:calendar-color/></d:prop></d:propfind>';
const ASK_ETAG = '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>';

describe('DAV properties across a restore', () => {
  after(cleanTempDirs);

  it('brings back the resource names a client chose and its collection colour', async () => {
    const servers: TestServer[] = [];
    try {
      const lost = await startTestServer({ kind: 'sqlite' });
      servers.push(lost);
      const ada = await lost.login('ada');
      const dav = async (server: TestServer, method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
        const res = await fetch(server.url + path, { method, headers: { ...basic('ada', ada.token), ...headers }, body });
        return { status: res.status, text: await res.text() };
      };
      // iOS and Evolution pick their own file names, not `<UID>.vcf`.
      assert.equal((await dav(lost, 'PUT', '/dav/ada/contacts/3F2A-Mine.vcf', vcard('uid-ada-1', 'Grace Hopper'))).status, 201);
      assert.equal((await dav(lost, 'PROPPATCH', '/dav/ada/calendar/', COLOR)).status, 207);
      const repo = await fileRepo(join(tempDir(), 'repo'));
      await new BackupShipper(lost.keepsake.store, lost.keepsake.blobs, [repo]).passOnce(false);

      const fresh = await startTestServer({ kind: 'sqlite' });
      servers.push(fresh);
      const report = await prepareOnlineRestore(fresh.keepsake, repo, { userIds: [], categories: [...DEFAULT_PRIORITY], priority: [...DEFAULT_PRIORITY] }, silent).then((o) => o.start());
      assert.deepEqual(report.quarantined, []);

      const listing = await dav(fresh, 'PROPFIND', '/dav/ada/contacts/', ASK_ETAG, { depth: '1' });
      assert.equal(listing.status, 207, listing.text);
      assert.ok(listing.text.includes('/dav/ada/contacts/3F2A-Mine.vcf'), `the client's href is back: ${listing.text}`);
      assert.ok(!listing.text.includes('uid-ada-1.vcf'), 'the item is not listed under a second name');
      const got = await dav(fresh, 'GET', '/dav/ada/contacts/3F2A-Mine.vcf');
      assert.equal(got.status, 200);
      assert.equal(got.text, vcard('uid-ada-1', 'Grace Hopper'));
      const color = await dav(fresh, 'PROPFIND', '/dav/ada/calendar/', ASK_COLOR, { depth: '0' });
      assert.equal(color.status, 207);
      assert.ok(color.text.includes('#FF2968FF'), `the calendar colour is back: ${color.text}`);
    } finally {
      for (const s of servers) await s.close();
    }
  });
});
