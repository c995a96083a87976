// ReplicaStore contract, run against every adapter; plus the file adapter's crash behaviour.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type LocalItem, MemoryReplicaStore, openFileReplicaStore, type PendingChange, type ReplicaStore } from '../../src/client/index.js';
import { emptyMeta } from '../../src/client/replica-state.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'keepsake-replica-'));
  dirs.push(d);
  return d;
};

const item = (id: string, body = 'x'): LocalItem => ({ collection: 'notes', id, content: { title: id, body }, hash: `sha256:${id}${body}`, deleted: false, version: 0, syncedHash: null, serverId: null, epoch: 0, history: [] });
const pending = (id: string, seq: number): PendingChange => ({ changeId: `c-${id}-${seq}`, seq, collection: 'notes', id, deleted: false, content: { title: id, body: '' }, hash: 'sha256:1', baseVersion: null, baseHash: null, chained: false, createdAt: '2026-11-25T00:00:00Z' });

function describeReplicaStore(name: string, open: () => Promise<{ store: ReplicaStore; reopen: () => Promise<ReplicaStore> }>): void {
  describe(`ReplicaStore contract: ${name}`, () => {
    it('loads what was committed, replacing by key and dropping what was dropped', async () => {
      const { store, reopen } = await open();
      await store.commit([{ op: 'putItem', item: item('a') }, { op: 'putItem', item: item('b') }, { op: 'putPending', change: pending('a', 2) }, { op: 'putPending', change: pending('b', 1) }]);
      await store.commit([{ op: 'putItem', item: item('a', 'changed') }, { op: 'dropPending', changeId: 'c-b-1' }, { op: 'dropPending', changeId: 'absent' }]);
      await store.commit([{ op: 'setMeta', meta: { ...emptyMeta(), cursor: '1.9', server: { id: 's', epoch: 3 } } }]);
      await store.commit([{ op: 'putConflict', copy: { copyId: 'k', collection: 'notes', id: 'a', deleted: false, hash: 'sha256:q', reason: 'conflict', serverVersion: 3, serverRevision: 4, at: 'now' } }]);
      for (const s of [store, await reopen()]) {
        const snap = await s.load();
        assert.deepEqual(snap.items.map((i) => [i.id, (i.content as { body: string }).body]).sort(), [['a', 'changed'], ['b', 'x']]);
        assert.deepEqual(snap.pending.map((p) => p.changeId), ['c-a-2']);
        assert.equal(snap.meta?.cursor, '1.9');
        assert.deepEqual(snap.meta?.server, { id: 's', epoch: 3 });
        assert.equal(snap.conflicts.length, 1);
      }
    });

    it('returns pending changes in edit order and is not changed by later edits of committed objects', async () => {
      const { store } = await open();
      const p = pending('z', 5);
      await store.commit([{ op: 'putPending', change: p }, { op: 'putPending', change: pending('y', 1) }]);
      p.hash = 'sha256:mutated';
      const snap = await store.load();
      assert.deepEqual(snap.pending.map((x) => x.seq), [1, 5]);
      assert.equal(snap.pending[1].hash, 'sha256:1');
    });

    it('keeps blobs, idempotently', async () => {
      const { store, reopen } = await open();
      const bytes = new Uint8Array([1, 2, 3, 4]);
      await store.putBlob('sha256:ab', bytes);
      await store.putBlob('sha256:ab', bytes);
      assert.deepEqual(await (await reopen()).getBlob('sha256:ab'), bytes);
      assert.equal(await store.getBlob('sha256:cd'), null);
    });
  });
}

describeReplicaStore('memory', async () => {
  const store = new MemoryReplicaStore();
  return { store, reopen: async () => store };
});

describeReplicaStore('file', async () => {
  const dir = tempDir();
  const store = await openFileReplicaStore(dir, { compactAfterLines: 2 });
  return {
    store,
    reopen: async () => {
      await store.close();
      return openFileReplicaStore(dir);
    },
  };
});

describe('file replica store after a crash', () => {
  it('drops a torn last commit entirely and keeps every complete one', async () => {
    const dir = tempDir();
    const store = await openFileReplicaStore(dir);
    await store.commit([{ op: 'putItem', item: item('kept') }]);
    await store.close();
    // Power lost in the middle of writing the next commit.
    appendFileSync(join(dir, 'replica.jsonl'), JSON.stringify([{ op: 'putItem', item: item('torn') }, { op: 'putItem', item: item('torn2') }]).slice(0, 40));
    const again = await openFileReplicaStore(dir);
    assert.deepEqual((await again.load()).items.map((i) => i.id), ['kept']);
    await again.commit([{ op: 'putItem', item: item('after') }]);
    await again.close();
    const third = await openFileReplicaStore(dir);
    assert.deepEqual((await third.load()).items.map((i) => i.id).sort(), ['after', 'kept']);
    assert.ok(readFileSync(join(dir, 'replica.jsonl'), 'utf8').endsWith('\n'));
    await third.close();
  });

  it('refuses a log damaged before its last line instead of silently dropping commits', async () => {
    const dir = tempDir();
    const store = await openFileReplicaStore(dir, { compactAfterLines: 100 });
    await store.commit([{ op: 'putItem', item: item('a') }]);
    await store.commit([{ op: 'putItem', item: item('b') }]);
    await store.commit([{ op: 'putItem', item: item('c') }]);
    await store.close();
    const text = readFileSync(join(dir, 'replica.jsonl'), 'utf8').split('\n');
    assert.ok(text.length >= 3);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'replica.jsonl'), ['{broken', ...text].join('\n'));
    await assert.rejects(openFileReplicaStore(dir), /damaged at line 1/);
  });
});
