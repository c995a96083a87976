// Restore benchmark (issue 4): full restore throughput and time until contacts are back; single-user
// restore time with a small and a large repository; restic restore of the same content in the same run.
// Run: node dist/bench/restore.bench.js [--quick]   (not part of npm test)
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository } from '../src/backup/repository.js';
import { BackupShipper } from '../src/backup/shipper.js';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import { contentHash } from '../src/core/hash.js';
import { defaultCollections } from '../src/core/kinds.js';
import type { PreparedChange } from '../src/core/model.js';
import { DEFAULT_PRIORITY } from '../src/core/restore/restore-plan.js';
import { executeRestore, planRestore } from '../src/restore/restore-executor.js';
import { openFsBlobStore } from '../src/store/blobs-fs/blob-store.js';
import { MemoryBlobStore } from '../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../src/store/memory/record-store.js';
import { openSqliteStore } from '../src/store/sqlite/record-store.js';
import { mixedChange } from './load.js';

const quick = process.argv.includes('--quick');
const SMALL = quick ? 1_000 : 10_000;
const LARGE = quick ? 5_000 : 50_000;
const PHOTO_BYTES = quick ? 100 * 1024 ** 2 : 1024 ** 3;
const PHOTO_SIZE = 2 * 1024 ** 2;
const BIG_USER_ITEMS = 5_000;
const scope = { userIds: [] as string[], categories: [...DEFAULT_PRIORITY], priority: [...DEFAULT_PRIORITY], concurrency: Number(process.env.RESTORE_CONCURRENCY ?? 8) };

const root = await mkdtemp(join(tmpdir(), 'keepsake-restore-bench-'));
const store = new MemoryRecordStore();
const blobs = new MemoryBlobStore();
const exportDir = join(root, 'plain');
const now = new Date().toISOString();

function prepared(c: ReturnType<typeof mixedChange>): PreparedChange {
  const text = typeof c.content === 'string' ? c.content : JSON.stringify(Object.fromEntries(Object.entries(c.content as object).sort()));
  return { changeId: c.changeId, collection: c.collection, id: c.id, baseVersion: 0, deleted: false, content: text, hash: contentHash(text) };
}

/** Adds users with mixed items (and photos until the photo budget is spent); mirrors them as plain files for restic. */
async function addUsers(from: number, to: number, photoBudget: { left: number }): Promise<string[]> {
  const ids: string[] = [];
  for (let u = from; u < to; u++) {
    const user = await store.createUser({ id: randomUUID(), name: `u${u}`, passwordHash: 'x', admin: false, createdAt: now, deletedAt: null }, defaultCollections());
    ids.push(user.id);
    const changes = Array.from({ length: 24 }, (_, i) => prepared(mixedChange(i)));
    const dir = join(exportDir, `u${u}`);
    mkdirSync(dir, { recursive: true });
    if (photoBudget.left > 0) {
      const bytes = randomBytes(PHOTO_SIZE);
      bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
      const hash = contentHash(bytes);
      await blobs.put(hash, (async function* () { yield bytes; })(), { maxBytes: 1e10 });
      await store.addBlobRef(user.id, hash);
      const text = JSON.stringify({ blob: hash, name: 'p.jpg', size: bytes.length, type: 'image/jpeg' });
      changes.push({ changeId: randomUUID(), collection: 'photos', id: `p${u}`, baseVersion: 0, deleted: false, content: text, hash: contentHash(text) });
      writeFileSync(join(dir, 'p.jpg'), bytes);
      photoBudget.left -= bytes.length;
    }
    await store.applyChanges(user.id, changes, now);
    writeFileSync(join(dir, 'items.json'), JSON.stringify(changes.map((c) => c.content)));
  }
  return ids;
}

const t = () => performance.now();
const budget = { left: PHOTO_BYTES };
let t0 = t();
const bigUser = await store.createUser({ id: randomUUID(), name: 'big', passwordHash: 'x', admin: false, createdAt: now, deletedAt: null }, defaultCollections());
for (let i = 0; i < BIG_USER_ITEMS; i += 500) await store.applyChanges(bigUser.id, Array.from({ length: 500 }, (_, j) => prepared(mixedChange(i + j))), now);
mkdirSync(join(exportDir, 'big'), { recursive: true });
writeFileSync(join(exportDir, 'big', 'items.json'), JSON.stringify((await store.listChanges(bigUser.id, 0, 10_000)).map((i) => i.content)));
await addUsers(0, SMALL, budget);
const repo = await openRepository(await openFileTarget(join(root, 'repo')), { key: null });
const shipper = new BackupShipper(store, blobs, [repo]);
// --snapshots: the state right after the periodic per-user snapshots (per-collection data objects).
await shipper.passOnce(process.argv.includes('--snapshots'));
console.error(`built and shipped ${SMALL} users in ${((t() - t0) / 1000).toFixed(1)} s`);

// Single-user restore, small repository.
async function singleUser(): Promise<number> {
  const start = t();
  await executeRestore(repo, new MemoryRecordStore(), new MemoryBlobStore(), await planRestore(repo, { ...scope, userIds: [bigUser.id] }));
  return t() - start;
}
const singleSmall = [await singleUser(), await singleUser(), await singleUser()].sort((a, b) => a - b)[1];

// Full restore into SQLite and a blob folder.
const target = await openSqliteStore(join(root, 'restored', 'keepsake.db'));
const targetBlobs = await openFsBlobStore(join(root, 'restored', 'blobs'));
t0 = t();
const plan = await planRestore(repo, scope);
const report = await executeRestore(repo, target, targetBlobs, plan);
const fullMs = t() - t0;
const repoBytes = Number(execFileSync('du', ['-sb', join(root, 'repo')]).toString().split('\t')[0]);
await target.close();

// Grow the repository and measure the single-user restore again.
t0 = t();
await addUsers(SMALL, LARGE, { left: 0 });
await shipper.passOnce(false);
console.error(`grew to ${LARGE} users in ${((t() - t0) / 1000).toFixed(1)} s`);
const singleLarge = [await singleUser(), await singleUser(), await singleUser()].sort((a, b) => a - b)[1];

// restic: the same content as plain files.
let restic: { fullMs: number; singleMs: number } | null = null;
if (spawnSync('restic', ['version']).status === 0) {
  const env = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: join(root, 'restic') };
  execFileSync('restic', ['init', '--quiet'], { env });
  execFileSync('restic', ['backup', '--quiet', '.'], { env, cwd: exportDir });
  let s = t();
  execFileSync('restic', ['restore', 'latest', '--quiet', '--target', join(root, 'restic-out')], { env });
  const rFull = t() - s;
  s = t();
  execFileSync('restic', ['restore', 'latest', '--quiet', '--include', '/big', '--target', join(root, 'restic-one')], { env });
  restic = { fullMs: rFull, singleMs: t() - s };
}

const restored = report.items.inserted + report.items.replaced + report.items.unchanged + report.items.keptNewer;
const rows: Array<[string, string]> = [
  [`full restore of ${SMALL} users (${(PHOTO_BYTES / 1024 ** 2).toFixed(0)} MiB photos) into SQLite: s`, (fullMs / 1000).toFixed(2)],
  ['  items/s', Math.round(restored / (fullMs / 1000)).toString()],
  ['  MB/s of backup read', (repoBytes / 1e6 / (fullMs / 1000)).toFixed(1)],
  ["  time until every user's contacts were back: s", ((report.contactsBackMs ?? 0) / 1000).toFixed(2)],
  ['  quarantined', String(report.quarantined.length)],
  [`single user (${BIG_USER_ITEMS} items), ${SMALL} users in repo: ms (median of 3)`, singleSmall.toFixed(0)],
  [`single user (${BIG_USER_ITEMS} items), ${LARGE} users in repo: ms (median of 3)`, singleLarge.toFixed(0)],
  ['  large / small', (singleLarge / singleSmall).toFixed(2)],
  ['restic restore, full (same content): s', restic ? (restic.fullMs / 1000).toFixed(2) : 'n/a'],
  ['restic restore, one user folder: ms', restic ? restic.singleMs.toFixed(0) : 'n/a'],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`\nKeepsake restore benchmark (${quick ? 'quick' : 'full'})`);
for (const [k, v] of rows) console.log(k.padEnd(w) + '  ' + v.padStart(10));
writeFileSync('bench-restore-results.json', JSON.stringify({ at: new Date().toISOString(), quick, SMALL, LARGE, fullMs, report, repoBytes, singleSmall, singleLarge, restic }, null, 2));
await rm(root, { recursive: true, force: true });
