// Unit tests of the group-commit queue on a bare SQLite file: grouping, the per-call fallback.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openConnection, type SqliteConnection } from './connection.js';
import { GroupCommit } from './group-commit.js';
import { WalSync } from './wal-sync.js';

describe('GroupCommit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keepsake-group-'));
  let conn: SqliteConnection;
  let sut: GroupCommit;
  let n = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    conn = await openConnection(join(dir, `g${n++}.db`));
    conn.db.exec('CREATE TABLE t (v TEXT PRIMARY KEY)');
    sut = new GroupCommit(conn.db, new WalSync(conn.walFd));
  });
  afterEach(async () => {
    await sut.close();
    closeSync(conn.walFd);
    conn.db.close();
  });
  const insert = (v: string) => () => conn.db.prepare('INSERT INTO t (v) VALUES (?)').run(v).changes;
  const values = () => (conn.db.prepare('SELECT v FROM t ORDER BY v').all() as { v: string }[]).map((r) => r.v);

  it('runs the writes of one tick in one transaction and one fsync', async () => {
    const all = await Promise.all(['a', 'b', 'c'].map((v) => sut.write(insert(v))));
    assert.deepEqual(all, [1, 1, 1]);
    assert.deepEqual(sut.stats(), { fsyncs: 1, groups: 1, writes: 3, inlineFsyncs: 0 });
  });

  it('a throwing call leaves nothing behind; the others of its group commit', async () => {
    const results = await Promise.allSettled([
      sut.write(insert('a')),
      sut.write(() => {
        insert('b')();
        throw new Error('boom');
      }),
      sut.write(insert('a')), // constraint violation
      sut.write(insert('c')),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    assert.deepEqual(values(), ['a', 'c']);
    // The group was redone call by call: the two good calls committed alone.
    assert.equal(sut.stats().groups, 2);
  });

  it('re-runs each call alone when SQLite aborts the whole transaction', async () => {
    // An explicit ROLLBACK inside a call stands in for SQLITE_FULL / SQLITE_IOERR, which end the
    // transaction underneath the group.
    const results = await Promise.allSettled([
      sut.write(insert('a')),
      sut.write(() => {
        insert('b')();
        conn.db.exec('ROLLBACK');
      }),
      sut.write(insert('c')),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(values(), ['a', 'c']);
  });

  it('answers reads only once what they saw is durable, in order after the write', async () => {
    const order: string[] = [];
    const w = sut.write(insert('a')).then(() => order.push('write'));
    await new Promise((r) => setImmediate(r)); // the group has committed; its fsync may still run
    const r = sut.read(values).then((v) => {
      order.push('read');
      return v;
    });
    assert.deepEqual(await r, ['a']);
    await w;
    assert.deepEqual(order, ['write', 'read']);
  });

  it('answers unsettled reads at once and settled() only once what they saw is durable', async () => {
    let acknowledged = false;
    const w = sut.write(insert('a')).then(() => (acknowledged = true));
    await new Promise((r) => setImmediate(r)); // the group has committed; its fsync runs on the threadpool
    // The fsync's callback cannot run before these microtasks: the unsettled read sees the commit first.
    assert.deepEqual(await sut.readUnsettled(values), ['a']);
    assert.equal(acknowledged, false);
    await sut.settled();
    // settled() resolved from the fsync that acknowledges the write: by the next turn it is acknowledged.
    await new Promise((r) => setImmediate(r));
    assert.equal(acknowledged, true);
    await w;
  });

  it("a commit by another connection seen by unsettled reads is fsynced before settled() or the next write's acknowledgement", async () => {
    // Another connection (the CLI, a second process) commits; nothing in this process knows yet.
    const other = new Database(join(dir, `g${n - 1}.db`));
    other.prepare('INSERT INTO t (v) VALUES (?)').run('x');
    other.close();
    const before = sut.stats().fsyncs;
    assert.deepEqual(await sut.readUnsettled(values), ['x']);
    assert.deepEqual(await sut.readUnsettled(values), ['x']);
    await sut.settled();
    assert.equal(sut.stats().fsyncs, before + 1, 'settled() waited for an fsync covering the other commit');
    // The same through a write: its acknowledgement covers what the reads before it saw.
    const other2 = new Database(join(dir, `g${n - 1}.db`));
    other2.prepare('INSERT INTO t (v) VALUES (?)').run('y');
    other2.close();
    assert.deepEqual(await sut.readUnsettled(values), ['x', 'y']);
    const fsyncs = sut.stats().fsyncs;
    await sut.write(() => 0); // a write that changes nothing still waits for what the read saw
    assert.equal(sut.stats().fsyncs, fsyncs + 1);
  });

  it('acknowledges groups whose syncs overlap in commit order, each once durable', async () => {
    const order: string[] = [];
    const writes: Array<Promise<unknown>> = [];
    for (const v of ['a', 'b', 'c', 'd', 'e']) {
      writes.push(sut.write(insert(v)).then(() => order.push(v)));
      await new Promise((r) => setImmediate(r)); // one group each, its sync started before the next commits
    }
    await Promise.all(writes);
    assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(values(), ['a', 'b', 'c', 'd', 'e']);
    assert.ok(sut.stats().fsyncs >= 2, `fsyncs ${sut.stats().fsyncs}`);
  });

  it('while held, writes wait (reads do not) and commit together on release; close flushes a held queue', async () => {
    sut.hold();
    let done = 0;
    const first = ['a', 'b'].map((v) => sut.write(insert(v)).then(() => done++));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, 0, 'nothing acknowledged while held');
    assert.deepEqual(await sut.read(values), [], 'nothing written, and reads still answer');
    sut.release();
    await Promise.all(first);
    assert.deepEqual(values(), ['a', 'b']);
    assert.equal(sut.stats().groups, 1, 'the held writes ran as one group');
    sut.hold();
    const last = sut.write(insert('c'));
    await sut.close();
    await last;
    assert.deepEqual(values(), ['a', 'b', 'c']);
  });

  it('syncs on the event loop only while the predicate allows it, and acknowledges only after that sync', async () => {
    let alone = true;
    sut.syncInlineWhen(() => alone);
    await sut.write(insert('a'));
    assert.deepEqual(sut.stats(), { fsyncs: 1, groups: 1, writes: 1, inlineFsyncs: 1 });
    // Another request in flight: the sync goes back to the threadpool.
    alone = false;
    await sut.write(insert('b'));
    assert.deepEqual(sut.stats(), { fsyncs: 2, groups: 2, writes: 2, inlineFsyncs: 1 });
    assert.deepEqual(values(), ['a', 'b']);
  });

  it('a failed inline sync acknowledges nothing and refuses every later write', async () => {
    // A descriptor that cannot be synced stands in for an I/O error on the WAL.
    const broken = new GroupCommit(conn.db, new WalSync(-1));
    broken.syncInlineWhen(() => true);
    await assert.rejects(broken.write(insert('a')), { code: 'unavailable' });
    await assert.rejects(broken.write(insert('b')), { code: 'unavailable' });
  });

  it('refuses writes after close', async () => {
    await sut.close();
    await assert.rejects(sut.write(insert('a')), { code: 'unavailable' });
  });
});
