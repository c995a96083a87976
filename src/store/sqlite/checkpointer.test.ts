// The checkpointer lets the WAL start over under steady writes instead of growing without end.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { closeSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Checkpointer } from './checkpointer.js';
import { openConnection } from './connection.js';
import { GroupCommit } from './group-commit.js';
import { WalSync } from './wal-sync.js';

describe('Checkpointer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keepsake-checkpoint-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('under writes that never pause, holds them briefly so the WAL restarts; every acknowledged row is kept', async () => {
    const file = join(dir, 'c.db');
    const conn = await openConnection(file);
    conn.db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const commits = new GroupCommit(conn.db, new WalSync(conn.walFd));
    const resetAt = 512 * 1024;
    const checkpointer = new Checkpointer(file, commits, 25, resetAt);
    const insert = conn.db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const filler = 'x'.repeat(3000);
    const ROWS_PER_WRITE = 50;
    let acknowledged = 0;
    let maxWal = 0;
    // Until the log restarted a few times and four times more went through it than the WAL file
    // ever held: a WAL that grows with what is written never gets there (the cap ends the wait).
    const enough = () => checkpointer.holds.count >= 3 && acknowledged * filler.length >= 4 * Math.max(maxWal, resetAt);
    const cap = Date.now() + 60_000;
    try {
      // Four writers, each waiting only for its own acknowledgement: the log never goes quiet by itself.
      await Promise.all(
        [0, 1, 2, 3].map(async (w) => {
          for (let i = 0; !enough() && Date.now() < cap; i++) {
            await commits.write(() => {
              for (let r = 0; r < ROWS_PER_WRITE; r++) insert.run(w * 1e9 + i * ROWS_PER_WRITE + r, filler);
            });
            acknowledged += ROWS_PER_WRITE;
            maxWal = Math.max(maxWal, statSync(`${file}-wal`).size);
          }
        }),
      );
      const written = acknowledged * filler.length;
      assert.ok(enough(), `the WAL restarted (${checkpointer.holds.count} holds) and stayed small (at most ${maxWal} bytes of ${written} written)`);
    } finally {
      await commits.close();
      await checkpointer.stop();
      closeSync(conn.walFd);
      conn.db.close();
    }
    const reopened = new Database(file, { readonly: true });
    try {
      assert.equal(reopened.prepare('SELECT count(*) FROM t').pluck().get(), acknowledged);
    } finally {
      reopened.close();
    }
  });

  it('stops at once even with checkpoint reports still queued for a busy thread (a restore waited 5 s for it)', async () => {
    const file = join(dir, 'stop.db');
    const conn = await openConnection(file);
    try {
      for (let round = 0; round < 3; round++) {
        const checkpointer = new Checkpointer(file, null, 1);
        await new Promise((r) => setTimeout(r, 20));
        // This thread busy (as a bulk restore's writer is): the worker's reports queue up unread.
        for (const until = performance.now() + 50; performance.now() < until; );
        const t0 = performance.now();
        await checkpointer.stop();
        const ms = performance.now() - t0;
        assert.ok(ms < 2000, `stop took ${ms.toFixed(0)} ms`);
      }
    } finally {
      closeSync(conn.walFd);
      conn.db.close();
    }
  });
});
