// POST /api/v1/restore: "my contacts as of an hour ago", touching nothing else and losing nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { vcard } from '../helpers/fixtures.js';
import { type Session, startTestServer, type TestServer } from '../helpers/test-server.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('self-service point-in-time restore', () => {
  let server: TestServer;
  let u: Session;
  before(async () => {
    server = await startTestServer({ kind: 'sqlite' });
    u = await server.login('gus');
  });
  after(() => server.close());

  const push = async (changes: unknown[]) => (await u.call('POST', '/api/v1/changes', { changes })).body.results;
  const item = async (col: string, id: string) => (await u.call('GET', `/api/v1/items/${col}/${id}`)).body;

  it('brings one category back to a past time; newer versions become revisions', async () => {
    const [a, c] = await push([
      { changeId: randomUUID(), collection: 'contacts', id: 'a', baseVersion: 0, content: vcard('a', 'Anna Old') },
      { changeId: randomUUID(), collection: 'contacts', id: 'c', baseVersion: 0, content: vcard('c', 'Carl') },
    ]);
    const [n] = await push([{ changeId: randomUUID(), collection: 'notes', id: 'n', baseVersion: 0, content: { title: 'n', body: 'before' } }]);
    await pause(15);
    const at = new Date().toISOString();
    await pause(15);
    await push([
      { changeId: randomUUID(), collection: 'contacts', id: 'a', baseVersion: a.item.version, content: vcard('a', 'Anna New') },
      { changeId: randomUUID(), collection: 'contacts', id: 'b', baseVersion: 0, content: vcard('b', 'Bert') },
      { changeId: randomUUID(), collection: 'contacts', id: 'c', baseVersion: c.item.version, deleted: true },
      { changeId: randomUUID(), collection: 'notes', id: 'n', baseVersion: n.item.version, content: { title: 'n', body: 'after' } },
    ]);

    const r = await u.call('POST', '/api/v1/restore', { categories: ['contacts'], at });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual({ restored: r.body.restored, deleted: r.body.deleted, conflicts: r.body.conflicts }, { restored: 2, deleted: 1, conflicts: 0 });
    assert.equal((await item('contacts', 'a')).content, vcard('a', 'Anna Old'));
    assert.equal((await item('contacts', 'b')).deleted, true);
    assert.equal((await item('contacts', 'c')).content, vcard('c', 'Carl'));
    assert.equal((await item('notes', 'n')).content.body, 'after', 'other categories are untouched');
    const revs = (await u.call('GET', '/api/v1/items/contacts/a/revisions')).body.revisions;
    assert.ok(revs.some((x: any) => x.content === vcard('a', 'Anna New')), 'the replaced version is kept');
    assert.ok((await u.call('GET', '/api/v1/trash')).body.items.some((t: any) => t.id === 'b'), 'what was created since is in the trash');

    const again = await u.call('POST', '/api/v1/restore', { categories: ['contacts'], at });
    assert.deepEqual([again.body.restored, again.body.deleted], [0, 0], 'restoring twice changes nothing the second time');
  });

  it('refuses times outside the kept history, in the future, or malformed', async () => {
    const old = await u.call('POST', '/api/v1/restore', { categories: ['contacts'], at: new Date(Date.now() - 40 * 86_400_000).toISOString() });
    assert.equal(old.status, 422);
    assert.equal(old.body.error.code, 'restore_out_of_range');
    const future = await u.call('POST', '/api/v1/restore', { categories: ['contacts'], at: new Date(Date.now() + 86_400_000).toISOString() });
    assert.equal(future.body.error.code, 'invalid_request');
    assert.equal((await u.call('POST', '/api/v1/restore', { categories: ['films'], at: new Date().toISOString() })).body.error.code, 'unknown_kind');
    assert.equal((await u.call('POST', '/api/v1/restore', { categories: [], at: 'yesterday' })).status, 400);
  });
});
