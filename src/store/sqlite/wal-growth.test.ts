// Tests of growing the WAL ahead of the writer on real SQLite files: zeros are overwritten, a crash image loses nothing.
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openConnection, type SqliteConnection } from './connection.js';
import { GroupCommit } from './group-commit.js';
import { WalGrowth } from './wal-growth.js';
import { WalSync } from './wal-sync.js';

const KIB = 1024;

describe('WalGrowth', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keepsake-wal-growth-'));
  let conn: SqliteConnection;
  let n = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    conn = await openConnection(join(dir, `w${n++}.db`));
    conn.db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  });
  afterEach(() => {
    closeSync(conn.walFd);
    conn.db.close();
  });
  const walSize = () => fstatSync(conn.walFd).size;
  /** Commits `count` rows of ~3 KB, each in a group (a tick) of its own. */
  async function commitRows(commits: GroupCommit, from: number, count: number): Promise<void> {
    for (let k = from; k < from + count; k++) {
      await commits.write(() => conn.db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(k, `row ${k} `.repeat(300)));
    }
  }

  it('adds zeros past the end once commits append, and later commits overwrite them', async () => {
    const growth = new WalGrowth(conn.walFd, 256 * KIB, 2048 * KIB, 0, 1);
    const commits = new GroupCommit(conn.db, new WalSync(conn.walFd), growth);
    await commitRows(commits, 0, 3);
    assert.ok(growth.grown >= 1, 'the WAL was grown');
    const grownTo = walSize();
    // The tail past what the commits wrote is zeros.
    const tail = Buffer.alloc(4 * KIB);
    readSync(conn.walFd, tail, 0, tail.length, grownTo - tail.length);
    assert.ok(tail.every((b) => b === 0), 'the added bytes are zeros');
    // The next commits land in the zeros: the file keeps its size.
    await commitRows(commits, 3, 3);
    assert.equal(walSize(), grownTo);
    // No zeros past the limit, however much is written (past it SQLite appends as usual).
    await commitRows(commits, 6, 200);
    assert.ok(walSize() > 2048 * KIB);
    assert.ok(growth.grown <= 2048 / 256, `${growth.grown} chunks added`);
    assert.equal((conn.db.prepare('SELECT count(*) FROM t').pluck().get() as number), 206);
    await commits.close();
  });

  it('a copy of the files taken while the WAL holds zeros (a crash image) opens with every committed row', async () => {
    const growth = new WalGrowth(conn.walFd, 512 * KIB, 8192 * KIB, 0, 4);
    const commits = new GroupCommit(conn.db, new WalSync(conn.walFd), growth);
    await commitRows(commits, 0, 50);
    assert.ok(growth.grown >= 1);
    // No checkpoint has run: every row lives in the WAL, followed by zeros.
    const image = join(dir, `image${n}.db`);
    copyFileSync(conn.path, image);
    copyFileSync(`${conn.path}-wal`, `${image}-wal`);
    const copy = new Database(image);
    try {
      assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(copy.prepare('SELECT k FROM t ORDER BY k').pluck().all(), Array.from({ length: 50 }, (_, k) => k));
    } finally {
      copy.close();
    }
    await commits.close();
  });

  it('writes go on when the zeros cannot be written', async () => {
    // A read-only descriptor makes every write of zeros fail, as a full disk would.
    const readOnly = openSync(`${conn.path}-wal`, 'r');
    try {
      const growth = new WalGrowth(readOnly, 256 * KIB, 2048 * KIB, 0, 1);
      const commits = new GroupCommit(conn.db, new WalSync(conn.walFd), growth);
      await commitRows(commits, 0, 20);
      assert.equal(growth.grown, 0);
      assert.equal((conn.db.prepare('SELECT count(*) FROM t').pluck().get() as number), 20);
      await commits.close();
    } finally {
      closeSync(readOnly);
    }
  });
});
