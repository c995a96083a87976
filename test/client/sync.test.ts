// Client library against a real server: sync, offline edits, conflicts, dropped responses, the
// client-side mass-deletion guard, and a device that was away for a long time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectionDigest as clientDigest, KeepsakeClient, openFileReplicaStore, webCryptoSha256 } from '../../src/client/index.js';
import { collectionDigest as serverDigest } from '../../src/core/digest.js';
import { png, sha256, vcard, vevent } from '../helpers/fixtures.js';
import { device, RestartableServer } from './server-fixture.js';

let server: RestartableServer;
before(async () => {
  server = new RestartableServer();
  await server.start();
});
after(() => server.close());

let n = 0;
const user = () => `client-sync-${++n}`;

describe('client sync', () => {
  it('computes content hashes and collection digests exactly as the server does', async () => {
    const items = [
      { id: 'a', hash: sha256('x') },
      { id: 'ü-ñ', hash: sha256('y') },
      { id: 'c', hash: sha256('z') },
    ];
    assert.equal(await clientDigest(items, webCryptoSha256), serverDigest(items));
    const token = await server.token(user());
    const d = await device(server, token);
    await d.put('notes', 'n1', { title: 'Hi', body: 'there' });
    await d.put('contacts', 'c1', vcard('c1'));
    const r = await d.sync();
    assert.equal(r.ok, true, r.error?.message);
    const remote = await server.call(token, 'GET', '/api/v1/items/notes/n1');
    assert.equal(d.get('notes', 'n1')!.hash, remote.body.hash);
    const cols = (await server.call(token, 'GET', '/api/v1/collections')).body.collections;
    const local = await d.digests();
    for (const c of cols) if (c.count > 0) assert.equal(local[c.id], c.digest, c.id);
  });

  it('two devices editing the same item offline both keep their versions', async () => {
    const token = await server.token(user());
    const a = await device(server, token);
    const b = await device(server, token);
    await a.put('calendar', 'ev1', vevent('ev1', 'Standup'));
    await a.sync();
    await b.sync();
    assert.ok(b.get('calendar', 'ev1'));
    // Both offline: each edits the same event.
    await a.put('calendar', 'ev1', vevent('ev1', 'Standup (Ada)'));
    await b.put('calendar', 'ev1', vevent('ev1', 'Standup (Bob)'));
    assert.equal((await a.sync()).conflicts, 0);
    const rb = await b.sync();
    assert.equal(rb.conflicts, 1);
    await a.sync();
    // Current on every device and the server: Ada's (first to arrive); Bob's is a conflict copy
    // on his device and a conflict revision on the server.
    assert.match(String(a.get('calendar', 'ev1')!.content), /Standup \(Ada\)/);
    assert.match(String(b.get('calendar', 'ev1')!.content), /Standup \(Ada\)/);
    const copies = b.conflicts();
    assert.equal(copies.length, 1);
    assert.match(String(copies[0].content), /Standup \(Bob\)/);
    const revs = (await server.call(token, 'GET', '/api/v1/items/calendar/ev1/revisions')).body.revisions;
    assert.ok(revs.some((r: any) => r.reason === 'conflict' && String(r.content).includes('Standup (Bob)')));
    // Bob picks his version: it becomes current everywhere.
    await b.resolveConflict(copies[0].copyId, 'local');
    await b.sync();
    await a.sync();
    assert.match(String(a.get('calendar', 'ev1')!.content), /Standup \(Bob\)/);
    assert.equal(b.conflicts().length, 0);
  });

  it('an edit that lost a conflict is kept as a copy even if the device deleted the item afterwards', async () => {
    const token = await server.token(user());
    const a = await device(server, token);
    const b = await device(server, token);
    await a.put('notes', 'shared', { title: 'v1', body: '' });
    await a.sync();
    await b.sync();
    await a.put('notes', 'shared', { title: 'a wins', body: '' });
    await a.sync();
    await b.put('notes', 'shared', { title: 'b edit', body: 'only here' }); // offline…
    await b.delete('notes', 'shared'); // …then deleted
    assert.equal((await b.sync()).conflicts, 1);
    assert.equal((b.get('notes', 'shared')!.content as { title: string }).title, 'a wins');
    assert.deepEqual(b.conflicts().map((c) => (c.content as { title: string }).title), ['b edit']);
  });

  it('a retry after a dropped response does not duplicate the write', async () => {
    const token = await server.token(user());
    let drop = 1;
    const dropping: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'POST' && drop > 0) {
        drop--;
        await res.arrayBuffer(); // the server committed it; the device never sees the answer
        throw new TypeError('socket hang up');
      }
      return res;
    };
    const d = await device(server, token, { fetch: dropping });
    const acks: string[] = [];
    d.on('acknowledged', (a) => acks.push(a.status));
    await d.put('notes', 'once', { title: 'Once', body: 'only once' });
    const r = await d.sync();
    assert.equal(r.ok, true, r.error?.message);
    assert.deepEqual(acks, ['duplicate']);
    assert.equal(d.pending().length, 0);
    assert.equal(d.conflicts().length, 0);
    const revs = (await server.call(token, 'GET', '/api/v1/items/notes/once/revisions')).body.revisions;
    assert.equal(revs.length, 0, 'one version, no revision: written exactly once');
    const all = (await server.call(token, 'GET', '/api/v1/changes')).body.changes;
    assert.equal(all.length, 1);
  });

  it('works offline: edits stay pending and durable, then sync when the server is back', async () => {
    const token = await server.token(user());
    let online = false;
    const network: typeof fetch = (input, init) => (online ? fetch(input, init) : Promise.reject(new TypeError('network down')));
    const d = await device(server, token, { fetch: network });
    await d.put('notes', 'plane', { title: 'Written on a plane', body: '' });
    await d.put('scores', 'best', { game: 'Tetris', score: 120000, achievedAt: '2026-11-25T09:00:00Z' });
    const states: string[] = [];
    d.on('state', (s) => states.push(s.state));
    const r = await d.sync();
    assert.equal(r.ok, false);
    assert.equal(r.state, 'offline');
    assert.equal(r.error?.code, 'offline');
    assert.equal(d.pending().length, 2);
    online = true;
    const back = await d.sync();
    assert.equal(back.ok, true);
    assert.equal(back.pushed, 2);
    assert.deepEqual(states, ['syncing', 'offline', 'syncing', 'idle']);
    assert.equal((await server.call(token, 'GET', '/api/v1/items/notes/plane')).status, 200);
  });

  it('keeps the replica in an fsynced file across restarts', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'keepsake-replica-'));
    try {
      const token = await server.token(user());
      let d = await KeepsakeClient.open({ serverUrl: server.url, token, store: await openFileReplicaStore(dir, { compactAfterLines: 5 }) });
      const photo = png('file-store', 1000);
      await d.putPhoto('photos', 'p1', photo, { name: 'p1.png', type: 'image/png' });
      for (let i = 0; i < 8; i++) await d.put('notes', `n${i}`, { title: `n${i}`, body: 'x' });
      await d.sync();
      await d.put('notes', 'offline', { title: 'written offline', body: '' });
      await d.close();
      d = await KeepsakeClient.open({ serverUrl: server.url, token, store: await openFileReplicaStore(dir) });
      assert.equal(d.list('notes').length, 9);
      assert.equal(d.pending().length, 1);
      assert.equal(d.server?.epoch, 1);
      assert.deepEqual(await d.getBlob(sha256(photo)), new Uint8Array(photo));
      assert.equal((await d.sync()).pushed, 1);
      await d.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a pull that would delete most of a collection pauses until the user decides', async () => {
    const token = await server.token(user());
    const a = await device(server, token);
    const b = await device(server, token);
    for (let i = 0; i < 30; i++) await a.put('contacts', `c${i}`, vcard(`c${i}`, `Person ${i}`));
    await a.sync();
    await b.sync();
    for (let i = 0; i < 25; i++) await b.delete('contacts', `c${i}`);
    assert.equal((await b.sync()).paused[0]?.direction, 'push', 'the server guard refuses first');
    assert.equal((await b.sync({ confirmMassDelete: true })).ok, true);
    const paused: unknown[] = [];
    a.on('massDeletePaused', (e) => paused.push(e));
    const r = await a.sync();
    assert.equal(r.state, 'paused');
    assert.deepEqual(r.paused, [{ collection: 'contacts', deletes: 25, live: 30, direction: 'pull' }]);
    assert.equal(paused.length, 1);
    assert.equal(a.list('contacts').length, 30, 'nothing deleted yet');
    // "No, keep them": the device's contacts go back to the server.
    await a.rejectMassDelete('contacts');
    await a.sync();
    await b.sync();
    assert.equal(b.list('contacts').length, 30);
    assert.equal((await server.call(token, 'GET', '/api/v1/collections')).body.collections.find((c: any) => c.id === 'contacts').count, 30);
  });

  it('confirming a held mass deletion applies it', async () => {
    const token = await server.token(user());
    const a = await device(server, token);
    const b = await device(server, token);
    for (let i = 0; i < 24; i++) await a.put('notes', `n${i}`, { title: `${i}`, body: '' });
    await a.sync();
    await b.sync();
    for (let i = 0; i < 20; i++) await b.delete('notes', `n${i}`);
    await b.sync({ confirmMassDelete: true });
    assert.equal((await a.sync()).state, 'paused');
    assert.equal(await a.confirmMassDelete('notes'), 20);
    assert.equal(a.list('notes').length, 4);
    assert.equal((await a.sync()).state, 'idle');
  });

  it('a device offline for a long time comes back and merges', async () => {
    const token = await server.token(user());
    const away = await device(server, token);
    const home = await device(server, token);
    for (let i = 0; i < 10; i++) await home.put('notes', `n${i}`, { title: `v1 ${i}`, body: '' });
    await home.sync();
    await away.sync();
    // Away edits offline for a long time while home keeps working.
    for (let i = 0; i < 5; i++) await away.put('notes', `n${i}`, { title: `away ${i}`, body: '' });
    await away.put('scores', 's1', { game: 'Snake', score: 9001, achievedAt: '2026-11-01T10:00:00Z' });
    for (let round = 0; round < 20; round++) {
      await home.put('notes', `n${5 + (round % 5)}`, { title: `home ${round}`, body: '' });
      await home.put('notes', `new${round}`, { title: `new ${round}`, body: '' });
      await home.sync();
    }
    await home.delete('notes', 'n0');
    await home.sync();
    const r = await away.sync();
    assert.equal(r.ok, true);
    await home.sync();
    // n0: away's edit beats home's delete; n1–n4: away's edits; n5–n9 and new*: home's.
    assert.equal(away.get('notes', 'n0')?.content && (away.get('notes', 'n0')!.content as any).title, 'away 0');
    assert.deepEqual(await away.digests(), await home.digests());
    assert.equal(home.list('notes').length, 30);
    assert.ok(home.get('scores', 's1'));
    assert.equal(away.conflicts().length + home.conflicts().length, 0);
  });
});

