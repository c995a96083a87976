// The JSON sync API against a real server on a random port: what a device sees.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { collectionDigest } from '../../src/core/digest.js';
import { png, sha256, vcard, vevent, vtodo } from '../helpers/fixtures.js';
import { basic, call, type Session, startTestServer, type TestServer } from '../helpers/test-server.js';

const cid = () => randomUUID();

describe('JSON sync API', () => {
  let server: TestServer;
  let alice: Session;
  before(async () => {
    server = await startTestServer();
    alice = await server.login('alice');
  });
  after(() => server.close());

  it('gives a new user one collection of each kind with empty digests', async () => {
    const r = await alice.call('GET', '/api/v1/collections');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.collections.map((c: any) => c.kind).sort(), ['calendar', 'contacts', 'notes', 'photos', 'scores', 'tasks']);
    for (const c of r.body.collections) assert.equal(c.digest, '0'.repeat(64));
  });

  it('stores and returns all six kinds; pull pages through them in order', async () => {
    const u = await server.login();
    const photo = png('holiday');
    const up = await u.call('PUT', `/api/v1/blobs/${sha256(photo)}`, photo, { 'content-type': 'image/png' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal(up.body.type, 'image/png');
    const changes = [
      { changeId: cid(), collection: 'contacts', id: 'c1', baseVersion: null, content: vcard('c1') },
      { changeId: cid(), collection: 'calendar', id: 'e1', baseVersion: null, content: vevent('e1', 'Standup', { recurring: true }) },
      { changeId: cid(), collection: 'tasks', id: 't1', baseVersion: null, content: vtodo('t1') },
      { changeId: cid(), collection: 'notes', id: 'n1', baseVersion: null, content: { title: 'Hi', body: '# Hello\n' } },
      { changeId: cid(), collection: 'photos', id: 'p1', baseVersion: null, content: { blob: sha256(photo), name: 'holiday.png', type: 'image/png', size: photo.length } },
      { changeId: cid(), collection: 'scores', id: 's1', baseVersion: null, content: { game: 'Tetris', score: 12345, achievedAt: '2026-01-01T10:00:00Z' } },
    ];
    const r = await u.call('POST', '/api/v1/changes', { changes });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.results.map((x: any) => x.status), Array(6).fill('applied'), JSON.stringify(r.body));
    assert.equal(r.body.results[0].item.content, undefined, 'applied results carry no content: the device sent it');
    assert.equal((await u.call('GET', '/api/v1/items/contacts/c1')).body.content, vcard('c1'), 'vCard bytes come back as sent');
    assert.match(r.body.results[0].item.hash, /^sha256:[0-9a-f]{64}$/);

    const seen: any[] = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const p = await u.call('GET', `/api/v1/changes?since=${cursor}&limit=4`);
      assert.equal(p.status, 200);
      seen.push(...p.body.changes);
      cursor = p.body.cursor;
      if (!p.body.more) break;
    }
    assert.deepEqual(seen.map((x) => x.id), ['c1', 'e1', 't1', 'n1', 'p1', 's1']);
    assert.deepEqual(seen.map((x) => x.version), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(seen[3].content, { title: 'Hi', body: '# Hello\n' });
    const empty = await u.call('GET', `/api/v1/changes?since=${cursor}`);
    assert.deepEqual(empty.body.changes, []);
    assert.equal(empty.body.cursor, cursor);

    const got = await u.call('GET', `/api/v1/blobs/${sha256(photo)}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'image/png');

    const cols = (await u.call('GET', '/api/v1/collections')).body.collections;
    const notes = cols.find((c: any) => c.id === 'notes');
    assert.equal(notes.count, 1);
    assert.equal(notes.digest, collectionDigest([{ id: 'n1', hash: r.body.results[3].item.hash }]));
  });

  it('answers retries as duplicates and stale edits as conflicts, keeping the losing version', async () => {
    const u = await server.login();
    const first = { changeId: cid(), collection: 'notes', id: 'n', baseVersion: null, content: { title: 't', body: 'v1' } };
    const a = await u.call('POST', '/api/v1/changes', { changes: [first] });
    const v1 = a.body.results[0].item.version;
    const again = await u.call('POST', '/api/v1/changes', { changes: [first] });
    assert.equal(again.body.results[0].status, 'duplicate');
    const phone = await u.call('POST', '/api/v1/changes', { changes: [{ changeId: cid(), collection: 'notes', id: 'n', baseVersion: v1, content: { title: 't', body: 'phone' } }] });
    assert.equal(phone.body.results[0].status, 'applied');
    const laptop = await u.call('POST', '/api/v1/changes', { changes: [{ changeId: cid(), collection: 'notes', id: 'n', baseVersion: v1, content: { title: 't', body: 'laptop' } }] });
    const res = laptop.body.results[0];
    assert.equal(res.status, 'conflict');
    assert.equal(res.item.content.body, 'phone');
    const revs = await u.call('GET', '/api/v1/items/notes/n/revisions');
    const bodies = revs.body.revisions.map((r: any) => [r.reason, r.content.body]);
    assert.deepEqual(bodies, [['conflict', 'laptop'], ['overwritten', 'v1']]);
    // the user picks the laptop version back
    const restored = await u.call('POST', `/api/v1/items/notes/n/revisions/${res.revision}/restore`);
    assert.equal(restored.status, 200);
    assert.equal(restored.body.content.body, 'laptop');
    const revs2 = await u.call('GET', '/api/v1/items/notes/n/revisions');
    assert.ok(revs2.body.revisions.some((r: any) => r.content.body === 'phone'), 'the replaced version is kept too');
  });

  it('deletes into the trash and restores from it', async () => {
    const u = await server.login();
    const a = await u.call('POST', '/api/v1/changes', { changes: [{ changeId: cid(), collection: 'contacts', id: 'x', baseVersion: 0, content: vcard('x', 'Grace Hopper') }] });
    const v = a.body.results[0].item.version;
    const d = await u.call('POST', '/api/v1/changes', { changes: [{ changeId: cid(), collection: 'contacts', id: 'x', baseVersion: v, deleted: true }] });
    assert.equal(d.body.results[0].item.deleted, true);
    const trash = await u.call('GET', '/api/v1/trash');
    assert.deepEqual(trash.body.items.map((t: any) => t.id), ['x']);
    assert.equal(trash.body.items[0].content, vcard('x', 'Grace Hopper'));
    const r = await u.call('POST', '/api/v1/trash/contacts/x/restore');
    assert.equal(r.status, 200);
    assert.equal(r.body.deleted, false);
    assert.equal(r.body.content, vcard('x', 'Grace Hopper'));
    assert.equal((await u.call('GET', '/api/v1/trash')).body.items.length, 0);
  });

  it('refuses a mass deletion as a whole unless confirmed', async () => {
    const u = await server.login();
    const mk = Array.from({ length: 30 }, (_, i) => ({ changeId: cid(), collection: 'notes', id: `n${i}`, baseVersion: 0, content: { title: `${i}`, body: '' } }));
    const made = await u.call('POST', '/api/v1/changes', { changes: mk });
    const dels = made.body.results.slice(0, 20).map((r: any) => ({ changeId: cid(), collection: 'notes', id: r.item.id, baseVersion: r.item.version, deleted: true }));
    const refused = await u.call('POST', '/api/v1/changes', { changes: dels });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'mass_delete_guard');
    assert.equal((await u.call('GET', '/api/v1/collections')).body.collections.find((c: any) => c.id === 'notes').count, 30);
    const ok = await u.call('POST', '/api/v1/changes', { changes: dels, confirmMassDelete: true });
    assert.equal(ok.status, 200);
    assert.equal((await u.call('GET', '/api/v1/collections')).body.collections.find((c: any) => c.id === 'notes').count, 10);
  });

  it('creates, renames and deletes collections', async () => {
    const u = await server.login();
    const c = await u.call('POST', '/api/v1/collections', { id: 'work', kind: 'calendar', name: 'Work' });
    assert.equal(c.status, 201);
    assert.equal((await u.call('PATCH', '/api/v1/collections/work', { name: 'Job' })).body.name, 'Job');
    assert.equal((await u.call('POST', '/api/v1/collections', { id: 'work', kind: 'calendar', name: 'x' })).body.error.code, 'collection_exists');
    assert.equal((await u.call('POST', '/api/v1/collections', { kind: 'videos', name: 'x' })).body.error.code, 'unknown_kind');
    assert.equal((await u.call('DELETE', '/api/v1/collections/work')).status, 204);
    assert.equal((await u.call('GET', '/api/v1/collections')).body.collections.some((x: any) => x.id === 'work'), false);
  });

  it('reports per-kind status, health and metrics', async () => {
    const u = await server.login();
    await u.call('POST', '/api/v1/changes', { changes: [{ changeId: cid(), collection: 'scores', id: 's', baseVersion: 0, content: { game: 'Snake', score: 9, achievedAt: '2026-01-01T00:00:00Z' } }] });
    const s = await u.call('GET', '/api/v1/status');
    assert.equal(s.status, 200);
    assert.equal(s.body.kinds.find((k: any) => k.kind === 'scores').items, 1);
    assert.equal(s.body.server.epoch, 1);
    assert.equal(s.body.server.backup.configured, false);
    assert.equal((await call(server.url, 'GET', '/healthz')).body.status, 'ok');
    const m = await call(server.url, 'GET', '/metrics');
    assert.match(m.body, /keepsake_http_requests_total/);
    assert.match(m.body, /keepsake_items \d+/);
  });

  it('exports everything as a zip with a manifest', async () => {
    const u = await server.login();
    await u.call('POST', '/api/v1/changes', { changes: [{ changeId: cid(), collection: 'contacts', id: 'zz', baseVersion: 0, content: vcard('zz', 'Zed Zulu') }] });
    const res = await fetch(`${server.url}/api/v1/export`, { headers: { authorization: `Bearer ${u.token}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="keepsake-/);
    const zip = Buffer.from(await res.arrayBuffer());
    assert.equal(zip.subarray(0, 2).toString(), 'PK');
    assert.ok(zip.includes(Buffer.from('manifest.json')));
    assert.ok(zip.includes(Buffer.from('contacts/contacts.vcf')));
  });

  it('issues, lists and revokes device tokens', async () => {
    const u = await server.login();
    const t2 = await call(server.url, 'POST', '/api/v1/tokens', { device: 'tablet' }, basic(u.name, u.password));
    assert.equal(t2.status, 201);
    const list = await u.call('GET', '/api/v1/tokens');
    assert.deepEqual(list.body.devices.map((d: any) => d.device).sort(), ['tablet', 'test']);
    assert.ok(!JSON.stringify(list.body).includes(t2.body.token), 'tokens are never listed');
    assert.equal((await u.call('DELETE', `/api/v1/tokens/${t2.body.device.id}`)).status, 204);
    const r = await call(server.url, 'GET', '/api/v1/status', undefined, { authorization: `Bearer ${t2.body.token}` });
    assert.equal(r.status, 401);
  });

  it('rate-limits failed logins per user and address', async () => {
    const u = await server.login();
    for (let i = 0; i < 10; i++) {
      const r = await call(server.url, 'POST', '/api/v1/tokens', { device: 'x' }, basic(u.name, 'wrong-password'));
      assert.equal(r.status, 401);
    }
    const limited = await call(server.url, 'POST', '/api/v1/tokens', { device: 'x' }, basic(u.name, u.password));
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  });

  it('lets admins manage accounts over the API and nobody else', async () => {
    const admin = await server.login('root-admin', { admin: true });
    const plain = await server.login();
    assert.equal((await plain.call('GET', '/api/v1/admin/users')).status, 403);
    const made = await admin.call('POST', '/api/v1/admin/users', { name: 'carol', password: 'carol-password' });
    assert.equal(made.status, 201);
    assert.ok(!('passwordHash' in made.body));
    assert.ok((await admin.call('GET', '/api/v1/admin/users')).body.users.some((u: any) => u.name === 'carol'));
    assert.equal((await call(server.url, 'POST', '/api/v1/tokens', { device: 'd' }, basic('carol', 'carol-password'))).status, 201);
    assert.equal((await admin.call('DELETE', '/api/v1/admin/users/carol')).status, 200);
    assert.equal((await call(server.url, 'POST', '/api/v1/tokens', { device: 'd' }, basic('carol', 'carol-password'))).status, 401);
    assert.equal((await admin.call('PATCH', '/api/v1/admin/users/carol', { deleted: false, password: 'carol-new-password' })).status, 200);
    assert.equal((await call(server.url, 'POST', '/api/v1/tokens', { device: 'd' }, basic('carol', 'carol-new-password'))).status, 201);
    assert.equal((await admin.call('POST', '/api/v1/admin/users', { name: 'carol', password: 'whatever-pw' })).body.error.code, 'user_exists');
  });
});
