// Probe (not part of npm test): times planning and each restore phase in-process against a fixture kept by
// bench/restore-build.ts, into a fresh SQLite store and blob folder.
// Run: node dist/bench/restore-probe.js DIR/repo OUT [contacts,…]
//   env BULK=0: plan + execute item by item (executeRestore) instead of the bulk restore;
//   env CONCURRENCY: users in flight per kind (users per transaction in bulk); THREADS: decoding threads (bulk)
import '../src/cli/threadpool.js';
import { rm } from 'node:fs/promises';
import { openRepository } from '../src/backup/repository.js';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import { DEFAULT_PRIORITY } from '../src/core/restore/restore-plan.js';
import { bulkRestore } from '../src/restore/bulk-restore.js';
import { DEFAULT_RESTORE_CONCURRENCY, executeRestore, planRestore, type RestoreScope } from '../src/restore/restore-executor.js';
import { openFsBlobStore } from '../src/store/blobs-fs/blob-store.js';
import { openSqliteStore } from '../src/store/sqlite/record-store.js';

const [repoDir, outDir, cats] = process.argv.slice(2);
await rm(outDir, { recursive: true, force: true });
const repo = await openRepository(await openFileTarget(repoDir), { key: null, create: false });
const categories = cats ? (cats.split(',') as typeof DEFAULT_PRIORITY[number][]) : [...DEFAULT_PRIORITY];
const scope: RestoreScope = { userIds: [], categories, priority: [...DEFAULT_PRIORITY], concurrency: Number(process.env.CONCURRENCY ?? DEFAULT_RESTORE_CONCURRENCY) };
const store = await openSqliteStore(`${outDir}/keepsake.db`);
const blobs = await openFsBlobStore(`${outDir}/blobs`);
const cpu0 = process.cpuUsage();
let t = performance.now();
let r;
if (process.env.BULK === '0') {
  const plan = await planRestore(repo, scope);
  console.error(`plan ${(performance.now() - t).toFixed(0)} ms`);
  t = performance.now();
  r = await executeRestore(repo, store, blobs, plan);
} else {
  const bulk = await bulkRestore(repo, store, blobs, scope, { threads: process.env.THREADS ? Number(process.env.THREADS) : undefined });
  r = bulk.report;
  console.error(`threads ${JSON.stringify(bulk.threadMs.map((t) => Object.fromEntries(Object.entries(t ?? {}).map(([k, v]) => [k, Math.round(v)]))))}`);
}
const cpu = process.cpuUsage(cpu0);
console.error(
  `execute ${(performance.now() - t).toFixed(0)} ms; contacts back ${r.contactsBackMs} ms; phases ${JSON.stringify(r.phaseMs)}; quarantined ${r.quarantined.length}` +
    `${r.quarantined.length ? ' e.g. ' + JSON.stringify(r.quarantined[0]) : ''}; items ${JSON.stringify(r.items)}; blobs ${r.blobs}; fsyncs ${JSON.stringify(store.durabilityStats())}; ` +
    `process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (user ${(cpu.user / 1e6).toFixed(1)})`,
);
await store.close();
