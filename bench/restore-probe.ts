// Probe (not part of npm test): times planning and each restore phase in-process against a fixture kept by
// bench/restore-build.ts, into a fresh SQLite store and blob folder.
// Run: node dist/bench/restore-probe.js DIR/repo OUT [contacts,calendar,…]   (env CONCURRENCY: users in flight per kind)
import '../src/cli/threadpool.js';
import { rm } from 'node:fs/promises';
import { openRepository } from '../src/backup/repository.js';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import { DEFAULT_PRIORITY } from '../src/core/restore/restore-plan.js';
import { DEFAULT_RESTORE_CONCURRENCY, executeRestore, planRestore } from '../src/restore/restore-executor.js';
import { openFsBlobStore } from '../src/store/blobs-fs/blob-store.js';
import { openSqliteStore } from '../src/store/sqlite/record-store.js';

const [repoDir, outDir, cats] = process.argv.slice(2);
await rm(outDir, { recursive: true, force: true });
const repo = await openRepository(await openFileTarget(repoDir), { key: null, create: false });
const categories = cats ? (cats.split(',') as typeof DEFAULT_PRIORITY[number][]) : [...DEFAULT_PRIORITY];
let t = performance.now();
const plan = await planRestore(repo, { userIds: [], categories, priority: [...DEFAULT_PRIORITY], concurrency: Number(process.env.CONCURRENCY ?? DEFAULT_RESTORE_CONCURRENCY) });
console.error(`plan ${(performance.now() - t).toFixed(0)} ms`);
const store = await openSqliteStore(`${outDir}/keepsake.db`);
const blobs = await openFsBlobStore(`${outDir}/blobs`);
t = performance.now();
const r = await executeRestore(repo, store, blobs, plan);
console.error(`execute ${(performance.now() - t).toFixed(0)} ms; phases ${JSON.stringify(r.phaseMs)}; quarantined ${r.quarantined.length}; items ${JSON.stringify(r.items)}; fsyncs ${JSON.stringify(store.durabilityStats())}`);
await store.close();
