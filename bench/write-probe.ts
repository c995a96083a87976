// Probe (not part of npm test): a bulk restore's writing work alone, on one thread: every user of a
// kept fixture (bench/restore-build.ts) decoded first, then written as the bulk restore writes them
// (accounts with the first kind, then each kind, DEFAULT_RESTORE_CONCURRENCY users per transaction,
// an fdatasync after each) into a fresh SQLite store. Prints the writing time per kind and per item.
// Run: node dist/bench/write-probe.js DIR/repo SCRATCH [ROUNDS]   (env PER_TX: users per transaction)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BackupRepository, openRepository } from '../src/backup/repository.js';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import { DEFAULT_PRIORITY } from '../src/core/restore/restore-plan.js';
import type { RestoredAccount } from '../src/core/ports/record-store.js';
import { blockingReads } from '../src/restore/blocking-reads.js';
import type { DecodedUnit } from '../src/restore/bulk-pool.js';
import { BulkWrites } from '../src/restore/bulk-writes.js';
import { decodeCategory } from '../src/restore/fresh-rows.js';
import { listUsersSync, userKeysSync } from '../src/restore/list-users.js';
import { planUser } from '../src/restore/plan-user.js';
import { DEFAULT_RESTORE_CONCURRENCY } from '../src/restore/restore-executor.js';
import { openSqliteStore } from '../src/store/sqlite/record-store.js';

const [repoDir, scratch, roundsArg] = process.argv.slice(2);
const opened = await openRepository(await openFileTarget(repoDir), { key: null, create: false });
const repo = new BackupRepository(blockingReads(opened.target)!, opened.config, null);
const scope = { userIds: [], categories: [...DEFAULT_PRIORITY], priority: [...DEFAULT_PRIORITY] };
const accounts: RestoredAccount[] = [];
const byKind = new Map<string, DecodedUnit[]>(DEFAULT_PRIORITY.map((k) => [k, []]));
for (const index of listUsersSync(repo, userKeysSync(repo)!).values()) {
  const r = await planUser(repo, index, scope, true);
  if (!r.state || !r.user) continue;
  accounts.push(r.user.account);
  for (const kind of DEFAULT_PRIORITY) if (r.user.kinds.has(kind)) byKind.get(kind)!.push({ userId: index.userId, name: r.user.name, category: decodeCategory(r.state, kind) });
}
const N = Number(process.env.PER_TX ?? DEFAULT_RESTORE_CONCURRENCY);
for (let round = 0; round < Number(roundsArg ?? 3); round++) {
  const dir = join(scratch, `round-${round}`);
  rmSync(dir, { recursive: true, force: true });
  const store = await openSqliteStore(join(dir, 'keepsake.db'));
  const writes = new BulkWrites(store.path);
  const out: string[] = [];
  let total = 0;
  let items = 0;
  for (const [n, kind] of DEFAULT_PRIORITY.entries()) {
    const units = byKind.get(kind)!;
    const t0 = performance.now();
    for (let i = 0; i < units.length; i += N) {
      writes.writeGroup(n === 0 ? accounts.slice(i, i + N) : [], units.slice(i, i + N));
      await writes.sync();
    }
    const ms = performance.now() - t0;
    const count = units.reduce((s, u) => s + (u.category.rows?.items.length ?? 0) / 6, 0);
    total += ms;
    items += count;
    out.push(`${kind} ${ms.toFixed(0)} ms (${((ms * 1000) / Math.max(1, count)).toFixed(1)} µs/item)`);
  }
  writes.close();
  await store.close();
  console.log(`round ${round}: ${total.toFixed(0)} ms for ${items} items and ${accounts.length} accounts; ${out.join(', ')}`);
}
