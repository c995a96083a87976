// Online restore: the server answers at once, tells each user where their data stands, accepts
// writes during the restore, and those writes survive it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackupShipper } from '../../src/backup/shipper.js';
import { contentHash } from '../../src/core/hash.js';
import { defaultCollections } from '../../src/core/kinds.js';
import { DEFAULT_PRIORITY } from '../../src/core/restore/restore-plan.js';
import { prepareOnlineRestore } from '../../src/restore/online-restore.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { hashPassword } from '../../src/core/accounts/password.js';
import { cleanTempDirs, fileRepo, tempDir } from '../backup/backup-helpers.js';
import { vcard } from '../helpers/fixtures.js';
import { basic, call, startTestServer } from '../helpers/test-server.js';

const silent = { info() {}, warn() {}, error() {} };

describe('online restore', () => {
  after(cleanTempDirs);

  it('serves at once, holds reads until each category is back, and keeps writes made meanwhile', async () => {
    // The lost server: one user with contacts and notes, shipped to a backup.
    const old = new MemoryRecordStore();
    const user = await old.createUser({ id: randomUUID(), name: 'hal', passwordHash: await hashPassword('hal-password'), admin: false, createdAt: new Date().toISOString(), deletedAt: null }, defaultCollections());
    const changes = Array.from({ length: 300 }, (_, i) => {
      const content = vcard(`c${i}`, `Person ${i}`);
      return { changeId: randomUUID(), collection: 'contacts', id: `c${i}`, baseVersion: 0, deleted: false, content, hash: contentHash(content) };
    });
    const note = JSON.stringify({ body: 'from before the disaster', title: 'n' });
    changes.push({ changeId: randomUUID(), collection: 'notes', id: 'n', baseVersion: 0, deleted: false, content: note, hash: contentHash(note) });
    await old.applyChanges(user.id, changes, new Date(Date.now() - 60_000).toISOString());
    const repo = await fileRepo(join(tempDir(), 'repo'));
    await new BackupShipper(old, new MemoryBlobStore(), [repo]).passOnce(false);
    const oldIdentity = await old.identity();

    // The replacement server, empty, restoring online.
    const server = await startTestServer({ kind: 'sqlite' });
    try {
      const online = await prepareOnlineRestore(server.keepsake, repo, { userIds: [], categories: [...DEFAULT_PRIORITY], priority: [...DEFAULT_PRIORITY] }, silent);
      const epoch = (await server.keepsake.store.identity()).epoch;
      assert.ok(epoch > oldIdentity.epoch, 'the restore starts a new epoch');

      // Before accounts are back a login cannot succeed yet: the answer is "restoring, retry", never
      // a 401 that would make a device think it was signed out, and never an empty account.
      const early = await call(server.url, 'POST', '/api/v1/tokens', { device: 'phone' }, basic('hal', 'hal-password'));
      assert.equal(early.status, 503);
      assert.equal(early.body.error.code, 'restoring');
      assert.ok(Number(early.headers.get('retry-after')) > 0);

      const running = online.start();
      const report = await running;
      assert.deepEqual(report.quarantined, []);
      const tok = await call(server.url, 'POST', '/api/v1/tokens', { device: 'phone' }, basic('hal', 'hal-password'));
      assert.equal(tok.status, 201, 'the account came back with its password');
      const auth = { authorization: `Bearer ${tok.body.token}` };
      const status = await call(server.url, 'GET', '/api/v1/status', undefined, auth);
      assert.ok(status.body.restore.length > 0 && status.body.restore.every((c: any) => c.state === 'verified'), JSON.stringify(status.body.restore));
      const pulled = await call(server.url, 'GET', '/api/v1/changes?limit=5000', undefined, auth);
      assert.equal(pulled.status, 200);
      assert.equal(pulled.body.changes.filter((c: any) => !c.deleted).length, 301);
      assert.equal(pulled.body.server.epoch, epoch);
      const stale = await call(server.url, 'GET', `/api/v1/changes?since=${oldIdentity.epoch}.5`, undefined, auth);
      assert.equal(stale.status, 410, 'a cursor from before the restore makes the device reconcile');
    } finally {
      await server.close();
    }
  });

  it('answers "restoring" with Retry-After for categories not back, and a write made meanwhile survives', async () => {
    const old = new MemoryRecordStore();
    const user = await old.createUser({ id: randomUUID(), name: 'ida', passwordHash: await hashPassword('ida-password'), admin: false, createdAt: new Date().toISOString(), deletedAt: null }, defaultCollections());
    const noteText = (b: string) => JSON.stringify({ body: b, title: 'n' });
    await old.applyChanges(user.id, [{ changeId: randomUUID(), collection: 'notes', id: 'n', baseVersion: 0, deleted: false, content: noteText('backed up'), hash: contentHash(noteText('backed up')) }], new Date(Date.now() - 60_000).toISOString());
    const repo = await fileRepo(join(tempDir(), 'repo'));
    await new BackupShipper(old, new MemoryBlobStore(), [repo]).passOnce(false);

    const server = await startTestServer({ kind: 'sqlite' });
    try {
      const tracker = server.keepsake.sync.restores;
      const online = await prepareOnlineRestore(server.keepsake, repo, { userIds: [], categories: [...DEFAULT_PRIORITY], priority: [...DEFAULT_PRIORITY] }, silent);
      // Restore the account only, as the first phase does, then hold: the categories are pending.
      await server.keepsake.store.restoreAccount({ user, tokens: [], collections: defaultCollections().map((c) => ({ ...c, createdAt: user.createdAt, deletedAt: null })), blobRefs: [], seq: 1 });
      tracker.plan(DEFAULT_PRIORITY.map((kind) => ({ userId: user.id, kind, items: kind === 'notes' ? 1 : 0 })));
      const tok = (await call(server.url, 'POST', '/api/v1/tokens', { device: 'phone' }, basic('ida', 'ida-password'))).body.token;
      const auth = { authorization: `Bearer ${tok}` };
      const held = await call(server.url, 'GET', '/api/v1/changes', undefined, auth);
      assert.equal(held.status, 503);
      assert.equal(held.body.error.code, 'restoring');
      assert.ok(Number(held.headers.get('retry-after')) > 0);
      assert.equal((await call(server.url, 'GET', '/api/v1/items/notes/n', undefined, auth)).body.error.code, 'restoring');
      const davCal = await fetch(`${server.url}/dav/ida/calendar/`, { method: 'PROPFIND', headers: { ...basic('ida', 'ida-password'), depth: '1' } });
      assert.equal(davCal.status, 503, 'a DAV client is told to wait, never shown an empty calendar to mirror');
      assert.match(await davCal.text(), /restoring/);
      assert.ok(Number(davCal.headers.get('retry-after')) > 0);
      const st = await call(server.url, 'GET', '/api/v1/status', undefined, auth);
      assert.deepEqual(st.body.restore.map((c: any) => c.state), DEFAULT_PRIORITY.map(() => 'pending'));
      // A device writes while the restore runs: accepted, and it survives.
      const w = await call(server.url, 'POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: 'notes', id: 'n', baseVersion: 0, content: { title: 'n', body: 'written during the restore' } }] }, auth);
      assert.equal(w.body.results[0].status, 'applied');
      await online.start();
      const item = await call(server.url, 'GET', '/api/v1/items/notes/n', undefined, auth);
      assert.equal(item.status, 200);
      assert.equal(item.body.content.body, 'written during the restore', 'the newer write stays current');
      const revs = await call(server.url, 'GET', '/api/v1/items/notes/n/revisions', undefined, auth);
      assert.ok(revs.body.revisions.some((r: any) => r.content?.body === 'backed up'), 'the backed-up version is kept as a revision');
    } finally {
      await server.close();
    }
  });
});
