// Quick restore throughput probe (not part of npm test): N users × M notes/contacts shipped once, restored into memory.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository } from '../src/backup/repository.js';
import { BackupShipper } from '../src/backup/shipper.js';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import { contentHash } from '../src/core/hash.js';
import { defaultCollections } from '../src/core/kinds.js';
import { DEFAULT_PRIORITY } from '../src/core/restore/restore-plan.js';
import { executeRestore, planRestore } from '../src/restore/restore-executor.js';
import { MemoryBlobStore } from '../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../src/store/memory/record-store.js';
import { mixedChange } from './load.js';

const users = Number(process.argv[2] ?? 200);
const perUser = Number(process.argv[3] ?? 50);
const dir = await mkdtemp(join(tmpdir(), 'keepsake-rs-'));
const store = new MemoryRecordStore();
const ids: string[] = [];
for (let u = 0; u < users; u++) {
  const user = await store.createUser({ id: randomUUID(), name: `u${u}`, passwordHash: 'x', admin: false, createdAt: new Date().toISOString(), deletedAt: null }, defaultCollections());
  ids.push(user.id);
  const changes = Array.from({ length: perUser }, (_, i) => {
    const c = mixedChange(i);
    const text = typeof c.content === 'string' ? c.content : JSON.stringify(Object.fromEntries(Object.entries(c.content as object).sort()));
    return { changeId: c.changeId, collection: c.collection, id: c.id, baseVersion: 0, deleted: false, content: text, hash: contentHash(text) };
  });
  await store.applyChanges(user.id, changes, new Date().toISOString());
}
const repo = await openRepository(await openFileTarget(join(dir, 'repo')), { key: null });
let t = performance.now();
await new BackupShipper(store, new MemoryBlobStore(), [repo]).passOnce(false);
console.log(`shipped ${users * perUser} items in ${((performance.now() - t) / 1000).toFixed(2)} s`);
t = performance.now();
const scope = { userIds: [], categories: [...DEFAULT_PRIORITY], priority: [...DEFAULT_PRIORITY] };
const plan = await planRestore(repo, scope);
const planMs = performance.now() - t;
const report = await executeRestore(repo, new MemoryRecordStore(), new MemoryBlobStore(), plan);
console.log(`plan ${planMs.toFixed(0)} ms; restore ${report.allBackMs} ms, contacts back ${report.contactsBackMs} ms, ${Math.round(report.itemsPerSecond)} items/s, quarantined ${report.quarantined.length}`);
t = performance.now();
await executeRestore(repo, new MemoryRecordStore(), new MemoryBlobStore(), await planRestore(repo, { ...scope, userIds: [ids[0]] }));
console.log(`single user restore ${(performance.now() - t).toFixed(0)} ms`);
await rm(dir, { recursive: true, force: true });
