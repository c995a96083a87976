// One user's restore timed in a process of its own (used by restore.bench.ts): the benchmark process
// holds its in-memory source of every user, and collecting that garbage mid-measurement timed the
// benchmark, not the restore. Prints {"ms":[…]}: `runs` restores after one uncounted warm-up.
// Run: node dist/bench/restore-one-user.js REPO_DIR USER_ID [RUNS] [SCRATCH_DIR]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository } from '../src/backup/repository.js';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import { DEFAULT_PRIORITY } from '../src/core/restore/restore-plan.js';
import { executeRestore, planRestore } from '../src/restore/restore-executor.js';
import { openFsBlobStore } from '../src/store/blobs-fs/blob-store.js';
import { openSqliteStore } from '../src/store/sqlite/record-store.js';

const [repoDir, userId, runsArg, scratchArg] = process.argv.slice(2);
if (!repoDir || !userId) {
  console.error('usage: node dist/bench/restore-one-user.js REPO_DIR USER_ID [RUNS] [SCRATCH_DIR]');
  process.exit(2);
}
const runs = Number(runsArg ?? 3);
const scratch = scratchArg ?? (await mkdtemp(join(tmpdir(), 'keepsake-one-user-')));
const repo = await openRepository(await openFileTarget(repoDir), { key: null });
const scope = { userIds: [userId], categories: [...DEFAULT_PRIORITY], priority: [...DEFAULT_PRIORITY] };
const ms: number[] = [];
for (let i = 0; i <= runs; i++) {
  const dir = join(scratch, `run-${i}`);
  const store = await openSqliteStore(join(dir, 'keepsake.db'));
  const blobs = await openFsBlobStore(join(dir, 'blobs'));
  const start = performance.now();
  const report = await executeRestore(repo, store, blobs, await planRestore(repo, scope));
  const took = performance.now() - start;
  await store.close();
  await rm(dir, { recursive: true, force: true });
  if (report.quarantined.length > 0) throw new Error(`single-user restore quarantined ${JSON.stringify(report.quarantined)}`);
  if (i > 0) ms.push(took); // the first run also compiles the restore code
}
if (!scratchArg) await rm(scratch, { recursive: true, force: true });
console.log(JSON.stringify({ ms }));
