// Bad input gets a 4xx with a stable code and a message naming the problem, and changes nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { png, sha256, vcard, vevent } from '../helpers/fixtures.js';
import { call, type Session, startTestServer, type TestServer } from '../helpers/test-server.js';

describe('bad input', () => {
  let server: TestServer;
  let u: Session;
  let userId: string;
  before(async () => {
    server = await startTestServer();
    u = await server.login('mallory');
    userId = (await server.keepsake.store.findUserByName('mallory'))!.id;
  });
  after(() => server.close());

  /** A fingerprint of everything the user has, to prove a request changed nothing. */
  async function snapshot(): Promise<string> {
    const cols = await server.keepsake.store.listCollections(userId, { includeDeleted: true });
    return JSON.stringify([await server.keepsake.store.lastSeq(userId), cols]);
  }

  async function expectRefused(method: string, path: string, body: unknown, status: number, code: string, headers?: Record<string, string>) {
    const before = await snapshot();
    const r = await u.call(method, path, body, headers);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code);
    assert.ok(r.body.error.message.length > 10, 'the message says what is wrong');
    assert.equal(await snapshot(), before, 'nothing changed');
    return r.body.error;
  }

  const change = (over: Record<string, unknown> = {}) => ({ changeId: randomUUID(), collection: 'notes', id: 'n1', baseVersion: null, content: { title: 't', body: 'b' }, ...over });

  it('rejects malformed JSON, wrong types and unknown fields as a whole', async () => {
    await expectRefused('POST', '/api/v1/changes', '{"changes": [', 400, 'invalid_json', { 'content-type': 'application/json' });
    await expectRefused('POST', '/api/v1/changes', { changes: 'no' }, 400, 'invalid_request');
    await expectRefused('POST', '/api/v1/changes', { changes: [], extra: 1 }, 400, 'invalid_request');
    const e = await expectRefused('POST', '/api/v1/changes', { changes: [change(), change({ colour: 'red' })] }, 400, 'invalid_request');
    assert.match(e.message, /colour/);
    await expectRefused('POST', '/api/v1/changes', { changes: [change({ baseVersion: 'one' })] }, 400, 'invalid_request');
    await expectRefused('POST', '/api/v1/changes', { changes: [change({ deleted: 'yes' })] }, 400, 'invalid_request');
    await expectRefused('POST', '/api/v1/changes', { changes: [change({ content: undefined })] }, 400, 'invalid_request');
  });

  it('rejects ids with path characters or lone surrogates (which would be stored as another id)', async () => {
    for (const id of ['../etc/passwd', 'a/b', 'a\\b', '..', '', 'x\u0000y', 'x\uD800', '\uDC00y']) {
      await expectRefused('POST', '/api/v1/changes', { changes: [change({ id })] }, 400, 'invalid_id');
    }
    await expectRefused('POST', '/api/v1/collections', { id: '../x', kind: 'notes', name: 'x' }, 400, 'invalid_id');
  });

  it('rejects a batch over 1,000 changes and oversized bodies', async () => {
    const changes = Array.from({ length: 1001 }, () => change({ id: randomUUID() }));
    await expectRefused('POST', '/api/v1/changes', { changes }, 413, 'batch_too_large');
    const small = await startTestServer({ env: { KEEPSAKE_MAX_BODY_SIZE: '1KiB' } });
    try {
      const s = await small.login();
      const r = await s.call('POST', '/api/v1/changes', { changes: [change({ content: { title: 't', body: 'x'.repeat(5000) } })] });
      assert.equal(r.status, 413);
      assert.equal(r.body.error.code, 'body_too_large');
    } finally {
      await small.close();
    }
  });

  it('rejects bad content per change with a clear code, storing nothing of it', async () => {
    const before = await snapshot();
    const r = await u.call('POST', '/api/v1/changes', {
      changes: [
        change({ collection: 'contacts', id: 'c1', content: 'BEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD' }),
        change({ collection: 'contacts', id: 'c2', content: vcard('someone-else') }),
        change({ collection: 'calendar', id: 'e1', content: 'not a calendar' }),
        change({ collection: 'calendar', id: 'e2', content: vcard('e2') }),
        change({ collection: 'notes', content: { title: 1, body: 'x' } }),
        change({ collection: 'scores', id: 's', content: { game: 'g', score: 'high', achievedAt: '2026-01-01T00:00:00Z' } }),
        change({ collection: 'nope', id: 'z' }),
        change({ collection: 'photos', id: 'p', content: { blob: sha256('never uploaded'), name: 'a.png', type: 'image/png', size: 3 } }),
      ],
    });
    assert.equal(r.status, 200);
    const codes = r.body.results.map((x: any) => x.error?.code);
    assert.deepEqual(codes, ['invalid_vcard', 'uid_mismatch', 'invalid_icalendar', 'invalid_icalendar', 'invalid_content', 'invalid_content', 'collection_not_found', 'blob_missing']);
    assert.match(r.body.results[1].error.message, /someone-else/);
    assert.equal(await snapshot(), before);
  });

  it('rejects bad cursors and cursors from another epoch', async () => {
    await expectRefused('GET', '/api/v1/changes?since=garbage', undefined, 400, 'bad_cursor');
    await expectRefused('GET', '/api/v1/changes?since=1.999999', undefined, 400, 'bad_cursor');
    await expectRefused('GET', '/api/v1/changes?since=7.0', undefined, 410, 'cursor_expired');
    await expectRefused('GET', '/api/v1/changes?limit=0', undefined, 400, 'invalid_request');
    await expectRefused('GET', '/api/v1/changes?foo=1', undefined, 400, 'invalid_request');
  });

  it('rejects blobs whose bytes do not match their name, or are not images', async () => {
    const img = png('a');
    await expectRefused('PUT', `/api/v1/blobs/${sha256('other bytes')}`, img, 400, 'blob_hash_mismatch', { 'content-type': 'image/png' });
    const text = Buffer.from('this is not an image at all, just text');
    await expectRefused('PUT', `/api/v1/blobs/${sha256(text)}`, text, 415, 'blob_type_unsupported', { 'content-type': 'application/octet-stream' });
    await expectRefused('PUT', '/api/v1/blobs/sha256:xyz', img, 400, 'invalid_request', { 'content-type': 'image/png' });
    const r = await u.call('GET', `/api/v1/blobs/${sha256(text)}`);
    assert.equal(r.status, 404, 'a refused blob is not stored');
    assert.equal(await server.keepsake.blobs.stat(sha256(img)), null);
  });

  it('rejects photos over the size limit', async () => {
    const small = await startTestServer({ env: { KEEPSAKE_MAX_PHOTO_SIZE: '2KiB' } });
    try {
      const s = await small.login();
      const big = png('big', 4096);
      const r = await s.call('PUT', `/api/v1/blobs/${sha256(big)}`, big, { 'content-type': 'image/png' });
      assert.equal(r.status, 413);
      assert.equal(r.body.error.code, 'blob_too_large');
      assert.equal(await small.keepsake.blobs.stat(sha256(big)), null);
    } finally {
      await small.close();
    }
  });

  it('survives random JSON thrown at every write endpoint', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.constantFrom('/api/v1/changes', '/api/v1/collections', '/api/v1/tokens'), async (body, path) => {
        const r = await u.call('POST', path, body === undefined ? null : body);
        assert.ok(r.status < 500, `${path} answered ${r.status} to ${JSON.stringify(body)}`);
        if (r.status >= 400) assert.equal(typeof r.body.error.code, 'string');
      }),
      { numRuns: 150 },
    );
    // random bodies may not create anything either, except perhaps collections or tokens which are valid requests
    const after = JSON.parse(await snapshot())[0];
    assert.equal(after, JSON.parse(before)[0], 'no item was written by random input');
  });

  it('survives mutated vCards and iCalendars pushed as content', async () => {
    const seeds = [vcard('m1'), vevent('m1', 'x', { recurring: true })];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1), fc.nat(), fc.string(), async (which, pos, insert) => {
        const s = seeds[which];
        const p = pos % s.length;
        const mutated = s.slice(0, p) + insert + s.slice(p + 1);
        const r = await u.call('POST', '/api/v1/changes', {
          changes: [change({ collection: which ? 'calendar' : 'contacts', id: 'm1', content: mutated })],
        });
        assert.equal(r.status, 200);
        const res = r.body.results[0];
        assert.ok(['applied', 'conflict', 'rejected'].includes(res.status), JSON.stringify(res));
      }),
      { numRuns: 150 },
    );
    assert.equal((await call(server.url, 'GET', '/healthz')).status, 200);
  });
});
