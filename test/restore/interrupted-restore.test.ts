// kill -9 in the middle of `keepsake restore`, then run it again: it completes, and matches the source.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackupShipper } from '../../src/backup/shipper.js';
import { contentHash } from '../../src/core/hash.js';
import { defaultCollections } from '../../src/core/kinds.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { openSqliteStore } from '../../src/store/sqlite/record-store.js';
import { cleanTempDirs, fileRepo, tempDir } from '../backup/backup-helpers.js';
import { CLI, runCli } from '../helpers/cli.js';
import { vcard } from '../helpers/fixtures.js';

/** Items in the SQLite file at `path` as another process sees them; 0 while it is not there yet. */
function itemsIn(path: string): number {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
  } catch {
    return 0; // not created yet, or its schema is not written yet
  } finally {
    db?.close();
  }
}

describe('interrupted restore', () => {
  after(cleanTempDirs);

  it('resumes after kill -9 and ends identical to the source', async () => {
    const source = new MemoryRecordStore();
    const users = [];
    for (let u = 0; u < 100; u++) {
      const user = await source.createUser({ id: randomUUID(), name: `user${u}`, passwordHash: 'x', admin: false, createdAt: new Date().toISOString(), deletedAt: null }, defaultCollections());
      users.push(user);
      const changes = Array.from({ length: 20 }, (_, i) => {
        const text = i % 2 ? vcard(`c${i}`, `Person ${u}-${i}`) : JSON.stringify({ body: `note ${u}-${i}`, title: 't' });
        return { changeId: randomUUID(), collection: i % 2 ? 'contacts' : 'notes', id: `c${i}`, baseVersion: 0, deleted: false, content: text, hash: contentHash(text) };
      });
      await source.applyChanges(user.id, changes, new Date().toISOString());
    }
    const repoDir = join(tempDir(), 'repo');
    await new BackupShipper(source, new MemoryBlobStore(), [await fileRepo(repoDir)]).passOnce(false);

    // Kill it part-way: watch the restored store and kill as soon as items arrive (a fixed
    // delay missed on fast and on loaded machines alike). Retried if the run ends first.
    const total = 100 * 20;
    let data = '';
    let partial = -1;
    for (let attempt = 0; attempt < 5 && partial < 0; attempt++) {
      data = tempDir('keepsake-interrupted-');
      const child = spawn(process.execPath, [CLI, 'restore', '--from', repoDir, '--data', data, '--all', '--concurrency', '1'], { stdio: 'ignore' });
      let ended = false;
      // Listen first: a run that ends before the kill must not leave the wait pending forever.
      const exited = new Promise((r) => child.once('exit', r)).then(() => (ended = true));
      while (!ended && itemsIn(join(data, 'keepsake.db')) === 0) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      await exited;
      const probe = await openSqliteStore(join(data, 'keepsake.db'));
      const n = (await probe.stats()).liveItems;
      await probe.close();
      if (n > 0 && n < total) partial = n;
    }
    assert.ok(partial > 0, 'the kill landed in the middle of a restore');

    const again = await runCli(['restore', '--from', repoDir, '--data', data, '--all', '--json']);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    const scrub = await runCli(['scrub', '--data', data]);
    assert.equal(scrub.code, 0, scrub.stdout);
    const restored = await openSqliteStore(join(data, 'keepsake.db'));
    try {
      for (const u of users) {
        const want = (await source.listCollections(u.id)).map((c) => [c.id, c.count, c.digest]);
        const got = (await restored.listCollections(u.id)).map((c) => [c.id, c.count, c.digest]);
        assert.deepEqual(got, want, `user ${u.name}`);
      }
    } finally {
      await restored.close();
    }
  });
});
