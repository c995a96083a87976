// Probe: time the restore phases in-process against a kept fixture (bench/restore-build.ts).
import '../src/cli/threadpool.js';
import { rm } from 'node:fs/promises';
import { openRepository } from '../src/backup/repository.js';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import { DEFAULT_PRIORITY } from '../src/core/restore/restore-plan.js';
import { executeRestore, planRestore } from '../src/restore/restore-executor.js';
import { openFsBlobStore } from '../src/store/blobs-fs/blob-store.js';
import { openSqliteStore } from '../src/store/sqlite/record-store.js';

const [repoDir, outDir, cats] = process.argv.slice(2);
await rm(outDir, { recursive: true, force: true });
const repo = await openRepository(await openFileTarget(repoDir), { key: null, create: false });
const categories = cats ? (cats.split(',') as typeof DEFAULT_PRIORITY[number][]) : [...DEFAULT_PRIORITY];
let t = performance.now();
const plan = await planRestore(repo, { userIds: [], categories, priority: [...DEFAULT_PRIORITY], concurrency: Number(process.env.CONCURRENCY ?? 128) });
console.error(`plan ${(performance.now() - t).toFixed(0)} ms`);
const store = await openSqliteStore(`${outDir}/keepsake.db`);
const blobs = await openFsBlobStore(`${outDir}/blobs`);
t = performance.now();
const r = await executeRestore(repo, store, blobs, plan);
console.error(`execute ${(performance.now() - t).toFixed(0)} ms; phases ${JSON.stringify(r.phaseMs)}; quarantined ${r.quarantined.length}; items ${JSON.stringify(r.items)}; fsyncs ${JSON.stringify(store.durabilityStats())}`);
await store.close();
