// Every route, called as nobody and as another user: never another user's data, never a change.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { png, sha256, vcard } from '../helpers/fixtures.js';
import { call, type Session, startTestServer, type TestServer } from '../helpers/test-server.js';

/** Routes anyone may call (they reveal no user data). */
const PUBLIC = new Set(['GET /healthz', 'GET /metrics']);

describe('authorization of every route', () => {
  let server: TestServer;
  let owner: Session;
  let intruder: Session;
  let photoHash: string;
  let tokenId: string;
  let ownerId: string;

  before(async () => {
    server = await startTestServer();
    owner = await server.login('owner');
    intruder = await server.login('intruder');
    ownerId = (await server.keepsake.store.findUserByName('owner'))!.id;
    const img = png('secret');
    photoHash = sha256(img);
    await owner.call('PUT', `/api/v1/blobs/${photoHash}`, img, { 'content-type': 'image/png' });
    const r = await owner.call('POST', '/api/v1/changes', {
      changes: [
        { changeId: randomUUID(), collection: 'contacts', id: 'secret', baseVersion: 0, content: vcard('secret', 'Secret Person') },
        { changeId: randomUUID(), collection: 'notes', id: 'gone', baseVersion: 0, content: { title: 'secret', body: 'secret' } },
      ],
    });
    await owner.call('POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: 'notes', id: 'gone', baseVersion: r.body.results[1].item.version, deleted: true }] });
    await owner.call('POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: 'contacts', id: 'secret', baseVersion: r.body.results[0].item.version, content: vcard('secret', 'Secret Person 2') }] });
    tokenId = (await owner.call('GET', '/api/v1/tokens')).body.devices[0].id;
  });
  after(() => server.close());

  /** A concrete request for each route pattern, aimed at the owner's data. */
  function concrete(url: string): string {
    return url
      .replace(':collection', 'contacts')
      .replace(':id', url.startsWith('/api/v1/tokens') ? tokenId : url.startsWith('/api/v1/collections') ? 'contacts' : url.includes('/trash/') ? 'gone' : 'secret')
      .replace(':version', '1')
      .replace(':hash', photoHash)
      .replace(':name', 'owner');
  }

  function body(method: string, url: string): unknown {
    if (method === 'GET' || method === 'DELETE') return undefined;
    if (url === '/api/v1/changes') return { changes: [{ changeId: randomUUID(), collection: 'contacts', id: 'secret', baseVersion: 99, deleted: true }] };
    if (url.startsWith('/api/v1/blobs')) return png('not the owner\'s bytes');
    if (url.startsWith('/api/v1/collections')) return { name: 'hijacked', kind: 'notes' };
    if (url === '/api/v1/tokens') return { device: 'x' };
    if (url.startsWith('/api/v1/admin')) return { name: 'evil', password: 'evil-password', admin: true };
    return {};
  }

  async function ownerState(): Promise<string> {
    const s = server.keepsake.store;
    return JSON.stringify([await s.lastSeq(ownerId), await s.listCollections(ownerId, { includeDeleted: true }), await s.listTokens(ownerId), await s.getUser(ownerId)]);
  }

  it('covers every registered route', () => {
    assert.ok(server.app.routeList.length >= 15, 'routes were collected');
  });

  it('refuses every private route without credentials', async () => {
    for (const { method, url } of server.app.routeList) {
      const key = `${method} ${url}`;
      if (PUBLIC.has(key)) continue;
      const before = await ownerState();
      const r = await call(server.url, method, concrete(url), body(method, url), method === 'PUT' ? { 'content-type': 'image/png' } : {});
      assert.equal(r.status, 401, `${key} without credentials answered ${r.status}`);
      assert.equal(r.body.error.code, 'unauthorized');
      assert.equal(await ownerState(), before, `${key} changed the owner's data`);
      const bad = await call(server.url, method, concrete(url), body(method, url), { authorization: 'Bearer ks_forged', ...(method === 'PUT' ? { 'content-type': 'image/png' } : {}) });
      assert.equal(bad.status, 401, `${key} with a forged token answered ${bad.status}`);
    }
  });

  it('never shows or changes the owner\'s data to another user', async () => {
    for (const { method, url } of server.app.routeList) {
      const key = `${method} ${url}`;
      if (PUBLIC.has(key) || key === 'POST /api/v1/tokens') continue;
      const before = await ownerState();
      const r = await intruder.call(method, concrete(url), body(method, url), method === 'PUT' ? { 'content-type': 'image/png' } : {});
      const text = JSON.stringify(r.body);
      assert.ok(!text.includes('Secret Person'), `${key} leaked the owner's contact`);
      assert.ok(!text.includes(ownerId), `${key} leaked the owner's id`);
      if (url.startsWith('/api/v1/admin')) assert.equal(r.status, 403, `${key} as a non-admin answered ${r.status}`);
      assert.equal(await ownerState(), before, `${key} as another user changed the owner's data`);
    }
    // The intruder's own reads see only their own (empty) data.
    assert.equal((await intruder.call('GET', '/api/v1/items/contacts/secret')).status, 404);
    assert.equal((await intruder.call('GET', `/api/v1/blobs/${photoHash}`)).status, 404);
    assert.equal((await intruder.call('GET', '/api/v1/changes')).body.changes.length, 0);
    assert.equal((await intruder.call('GET', '/api/v1/trash')).body.items.length, 0);
    assert.equal((await intruder.call('DELETE', `/api/v1/tokens/${tokenId}`)).status, 404);
    assert.equal((await owner.call('GET', '/api/v1/status')).status, 200, "the owner's token still works");
  });

  it('a user cannot use Basic credentials on token-only routes, nor a token to mint tokens', async () => {
    const r = await call(server.url, 'POST', '/api/v1/tokens', { device: 'x' }, { authorization: `Bearer ${owner.token}` });
    assert.equal(r.status, 401);
  });
});
