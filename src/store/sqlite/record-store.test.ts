// Runs the record-store contract against SQLite, plus group-commit and kill -9 tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collectionDigest } from '../../core/digest.js';
import type { RecordStore } from '../../core/ports/record-store.js';
import { describeRecordStore, newUser, note } from '../contract/record-store.contract.js';
import { openSqliteStore, type SqliteRecordStore } from './record-store.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keepsake-sqlite-'));
  dirs.push(dir);
  return join(dir, 'data', 'keepsake.db');
}

const NOW = '2026-01-01T00:00:00.000Z';
const COLLECTIONS = [{ id: 'notes', kind: 'notes' as const, name: 'Notes' }];

describeRecordStore('sqlite', {
  open: () => openSqliteStore(freshFile()),
  async reopen(store: RecordStore) {
    const path = (store as SqliteRecordStore).path;
    await store.close();
    return openSqliteStore(path);
  },
  openSibling: (store: RecordStore) => openSqliteStore((store as SqliteRecordStore).path),
});

describe('SqliteRecordStore', () => {
  it('groups 200 concurrent applyChanges calls into a few fsyncs', async (t) => {
    const sut = await openSqliteStore(freshFile());
    try {
      const user = await sut.createUser(newUser(), COLLECTIONS);
      const before = sut.durabilityStats();
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => sut.applyChanges(user.id, [note(`n${i}`, `b${i}`)], NOW)));
      const stats = sut.durabilityStats();
      const fsyncs = stats.fsyncs - before.fsyncs;
      t.diagnostic(`200 calls -> ${stats.groups - before.groups} transactions, ${fsyncs} fsyncs`);
      assert.equal(results.flat().filter((r) => r.status === 'applied').length, 200);
      assert.ok(fsyncs >= 1, 'the writes were made durable');
      assert.ok(fsyncs <= 10, `expected far fewer fsyncs than calls, got ${fsyncs}`);
      assert.equal(await sut.lastSeq(user.id), 200);
    } finally {
      await sut.close();
    }
  });

  it('a failing call in a group rejects alone and leaves nothing behind', async () => {
    const sut = await openSqliteStore(freshFile());
    try {
      const user = await sut.createUser(newUser(), COLLECTIONS);
      const calls = Array.from({ length: 20 }, (_, i) =>
        sut.applyChanges(
          user.id,
          i === 7 ? [note('bad-but-valid', 'x'), { ...note('x', 'y'), collection: 'nope' }] : [note(`n${i}`, `b${i}`)],
          NOW,
        ),
      );
      const settled = await Promise.allSettled(calls);
      const bad = settled[7];
      assert.equal(bad.status, 'rejected');
      assert.equal((bad as PromiseRejectedResult).reason.code, 'collection_not_found');
      assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 19);
      assert.equal(await sut.getItem(user.id, 'notes', 'bad-but-valid'), null);
      assert.equal(await sut.lastSeq(user.id), 19, 'the failed call took no sequence number');
      const col = await sut.getCollection(user.id, 'notes');
      assert.equal(col?.count, 19);
      assert.equal(col?.digest, collectionDigest(await sut.listItems(user.id, 'notes', { limit: 100 })));
    } finally {
      await sut.close();
    }
  });

  it('keeps the identity durable and refuses calls after close', async () => {
    const sut = await openSqliteStore(freshFile());
    const id = await sut.identity();
    const pending = sut.createUser(newUser('late'), COLLECTIONS);
    await sut.close();
    await pending; // queued before close: flushed and durable
    await assert.rejects(sut.getUser('x'), { code: 'unavailable' });
    const again = await openSqliteStore(sut.path);
    try {
      assert.deepEqual(await again.identity(), id);
      assert.ok(await again.findUserByName('late'));
      assert.ok((await again.stats()).bytes > 0);
    } finally {
      await again.close();
    }
  });

  it('loses no acknowledged write when the writer is killed with SIGKILL', async (t) => {
    const file = freshFile();
    const setup = await openSqliteStore(file);
    const user = await setup.createUser(newUser(), COLLECTIONS);
    await setup.close();

    const fixture = fileURLToPath(new URL('./crash-writer.fixture.js', import.meta.url));
    const child = spawn(process.execPath, [fixture, file, user.id], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.startsWith('ready\n')) resolve();
      });
      child.on('exit', () => reject(new Error(`writer exited early:\n${out}`)));
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const acked = out
      .split('\n')
      .slice(1)
      .filter((l) => /^\S+ \d+$/.test(l)) // a line cut by the kill was never fully acknowledged
      .map((l) => {
        const [id, v] = l.split(' ');
        return { id, version: Number(v) };
      });
    t.diagnostic(`${acked.length} acknowledged writes before kill -9`);
    assert.ok(acked.length > 20, `the writer got going (${acked.length} writes)`);

    const sut = await openSqliteStore(file);
    try {
      for (const { id, version } of acked) {
        const item = await sut.getItem(user.id, 'notes', id);
        assert.ok(item, `item ${id} is present`);
        assert.ok(item.version >= version, `item ${id} is at ${item.version}, acknowledged ${version}`);
        if (item.version !== version) assert.ok(await sut.getRevision(user.id, 'notes', id, version), `version ${version} of ${id} is kept`);
      }
      assert.ok((await sut.lastSeq(user.id)) >= Math.max(...acked.map((a) => a.version)));
      const live = await sut.listItems(user.id, 'notes', { limit: 1_000_000 });
      const col = await sut.getCollection(user.id, 'notes');
      assert.equal(col?.count, live.length);
      assert.equal(col?.digest, collectionDigest(live));
    } finally {
      await sut.close();
    }
  });
});
