// vdirsyncer against a real server (SQLite): two-way sync of a contacts and a calendar vdir, edits on both sides, a second sync that transfers nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { vcard, vevent } from '../helpers/fixtures.js';
import { type Session, startTestServer, type TestServer } from '../helpers/test-server.js';
import { requireBinary, run } from './real-clients.js';

describe('vdirsyncer against Keepsake', () => {
  let server: TestServer;
  let ada: Session;
  let vdirsyncer: string;
  let dir: string;

  before(async () => {
    vdirsyncer = requireBinary('vdirsyncer');
    server = await startTestServer({ kind: 'sqlite' });
    ada = await server.login('ada');
    dir = join(server.dir, 'vdirsyncer');
    await mkdir(join(dir, 'contacts'), { recursive: true });
    await mkdir(join(dir, 'calendar'), { recursive: true });
    await writeFile(
      join(dir, 'config'),
      `[general]
status_path = "${dir}/status/"

[pair contacts]
a = "contacts_local"
b = "contacts_remote"
collections = null
conflict_resolution = "b wins"

[storage contacts_local]
type = "filesystem"
path = "${dir}/contacts/"
fileext = ".vcf"

[storage contacts_remote]
type = "carddav"
url = "${server.url}/dav/ada/contacts/"
username = "ada"
password = "${ada.token}"

[pair calendar]
a = "calendar_local"
b = "calendar_remote"
collections = null

[storage calendar_local]
type = "filesystem"
path = "${dir}/calendar/"
fileext = ".ics"

[storage calendar_remote]
type = "caldav"
url = "${server.url}/dav/ada/calendar/"
username = "ada"
password = "${ada.token}"
`,
    );
  });
  after(() => server?.close());

  async function sync(): Promise<string> {
    const r = await run(vdirsyncer, ['-c', join(dir, 'config'), '-v', 'debug', 'sync'], { input: 'y\n', timeoutMs: 60_000 });
    assert.equal(r.code, 0, `vdirsyncer sync failed:\n${r.stderr}\n${r.stdout}`);
    return r.stdout + r.stderr;
  }

  async function push(changes: unknown[]) {
    const r = await ada.call('POST', '/api/v1/changes', { changes });
    for (const x of r.body.results) assert.equal(x.status, 'applied', JSON.stringify(x));
    return r.body.results;
  }

  it('syncs both ways, carries edits from both sides, and a second sync transfers nothing', async () => {
    const [grace] = await push([
      { changeId: randomUUID(), collection: 'contacts', id: 'grace', baseVersion: 0, content: vcard('grace', 'Grace Hopper') },
      { changeId: randomUUID(), collection: 'contacts', id: 'alan', baseVersion: 0, content: vcard('alan', 'Alan Turing') },
      { changeId: randomUUID(), collection: 'calendar', id: 'standup', baseVersion: 0, content: vevent('standup', 'Standup', { recurring: true }) },
    ]);
    await writeFile(join(dir, 'contacts', 'ada.vcf'), vcard('ada', 'Ada Lovelace'));
    await writeFile(join(dir, 'calendar', 'review.ics'), vevent('review', 'Review'));

    const d = await run(vdirsyncer, ['-c', join(dir, 'config'), 'discover'], { input: 'y\ny\n' });
    assert.equal(d.code, 0, `vdirsyncer discover failed:\n${d.stderr}`);
    await sync();

    assert.deepEqual((await readdir(join(dir, 'contacts'))).sort(), ['ada.vcf', 'alan.vcf', 'grace.vcf']);
    assert.deepEqual((await readdir(join(dir, 'calendar'))).sort(), ['review.ics', 'standup.ics']);
    const ada2 = (await ada.call('GET', '/api/v1/items/contacts/ada')).body;
    assert.equal(ada2.content, vcard('ada', 'Ada Lovelace'), 'the uploaded bytes are stored as sent');
    assert.equal((await ada.call('GET', '/api/v1/items/calendar/review')).status, 200);
    // vdirsyncer writes local files with its own line endings; the content is the server's.
    assert.equal((await readFile(join(dir, 'calendar', 'standup.ics'), 'utf8')).replace(/\r\n/g, '\n'), vevent('standup', 'Standup', { recurring: true }).replace(/\r\n/g, '\n'));

    // Edits on both sides, and a delete on the device.
    await push([{ changeId: randomUUID(), collection: 'contacts', id: 'grace', baseVersion: grace.item.version, content: vcard('grace', 'Rear Admiral Grace Hopper') }]);
    await writeFile(join(dir, 'contacts', 'ada.vcf'), vcard('ada', 'Augusta Ada King'));
    await rm(join(dir, 'contacts', 'alan.vcf'));
    await sync();
    assert.match(await readFile(join(dir, 'contacts', 'grace.vcf'), 'utf8'), /Rear Admiral Grace Hopper/);
    assert.match((await ada.call('GET', '/api/v1/items/contacts/ada')).body.content, /Augusta Ada King/);
    assert.equal((await ada.call('GET', '/api/v1/items/contacts/alan')).body.deleted, true);
    assert.deepEqual((await ada.call('GET', '/api/v1/trash')).body.items.map((t: { id: string }) => t.id), ['alan']);

    const seq = await server.keepsake.store.lastSeq((await server.keepsake.store.findUserByName('ada'))!.id);
    const log = await sync();
    assert.doesNotMatch(log, /Copying|Deleting|uploading|updating/i, `the second sync transferred something:\n${log}`);
    assert.equal(await server.keepsake.store.lastSeq((await server.keepsake.store.findUserByName('ada'))!.id), seq, 'nothing was written');
  });
});
