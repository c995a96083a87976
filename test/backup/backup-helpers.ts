// Shared helpers for backup tests: stores with some history, a repository on a temp directory, state comparison.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHash } from '../../src/core/hash.js';
import type { PreparedChange, User } from '../../src/core/model.js';
import type { RecordStore } from '../../src/core/ports/record-store.js';
import { openRepository, type BackupRepository } from '../../src/backup/repository.js';
import { openFileTarget } from '../../src/backup/targets/file/file-target.js';
import type { ReplayedUser } from '../../src/backup/replay.js';

export const NOW = '2026-01-01T00:00:00.000Z';
export const COLLECTIONS = [
  { id: 'contacts', kind: 'contacts' as const, name: 'Contacts' },
  { id: 'notes', kind: 'notes' as const, name: 'Notes' },
];

const dirs: string[] = [];
export function tempDir(prefix = 'keepsake-backup-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
export function cleanTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function fileRepo(dir = join(tempDir(), 'repo'), key: string | null = null): Promise<BackupRepository> {
  return openRepository(await openFileTarget(dir), { key });
}

export function newUser(name = `u-${randomUUID().slice(0, 8)}`): User {
  return { id: randomUUID(), name, passwordHash: 'scrypt$test', admin: false, createdAt: NOW, deletedAt: null };
}

export function note(id: string, body: string, baseVersion: number | null = null): PreparedChange {
  const content = JSON.stringify({ body, title: id });
  return { changeId: randomUUID(), collection: 'notes', id, baseVersion, deleted: false, content, hash: contentHash(content) };
}

export function del(id: string, baseVersion: number): PreparedChange {
  return { changeId: randomUUID(), collection: 'notes', id, baseVersion, deleted: true, content: null, hash: null };
}

/** Gives a user some history: creates, overwrites, a conflict, a delete. Returns the user. */
export async function userWithHistory(store: RecordStore, name?: string, notes = 5): Promise<User> {
  const user = await store.createUser(newUser(name), COLLECTIONS);
  for (let i = 0; i < notes; i++) await store.applyChanges(user.id, [note(`n${i}`, `first ${i}`)], NOW);
  const [first] = await store.applyChanges(user.id, [note('n0', 'second')], NOW);
  const v = first.status === 'duplicate' || first.status === 'applied' ? first.item!.version : 0;
  await store.applyChanges(user.id, [note('n1', 'edited', 2)], NOW);
  await store.applyChanges(user.id, [note('n1', 'conflicting', 2)], NOW);
  await store.applyChanges(user.id, [del('n2', 3)], NOW);
  void v;
  return user;
}

/** Asserts that a replayed user equals what the store holds: items, revisions, collections, account. */
export async function assertSameAsStore(store: RecordStore, userId: string, state: ReplayedUser): Promise<void> {
  const batch = await store.readBackupBatch(userId, 0, Number.MAX_SAFE_INTEGER);
  assert.ok(batch);
  const items = batch.records.filter((r) => r.type === 'item').map(({ type: _t, ...i }) => i);
  const sortItems = <T extends { collection: string; id: string; version: number }>(a: T[]) =>
    [...a].sort((x, y) => (x.collection + x.id).localeCompare(y.collection + y.id) || x.version - y.version);
  assert.deepEqual(sortItems([...state.items.values()]), sortItems(items));
  const revs = batch.records.filter((r) => r.type === 'revision').map(({ type: _t, ...r }) => r);
  assert.deepEqual(
    sortItems(state.revisions).map((r) => [r.collection, r.id, r.version, r.reason, r.hash]),
    sortItems(revs).map((r) => [r.collection, r.id, r.version, r.reason, r.hash]),
  );
  assert.deepEqual([...state.collections.values()].map((c) => [c.id, c.count, c.digest]), batch.collections.map((c) => [c.id, c.count, c.digest]));
  assert.equal(state.account?.user.passwordHash, batch.user.passwordHash);
  assert.deepEqual(state.account?.tokens.map((t) => t.tokenHash), batch.tokens.map((t) => t.tokenHash));
  assert.deepEqual(state.blobRefs, batch.blobRefs);
  assert.equal(state.seq, batch.seq);
}

/** Polls `check` until it is true or `ms` pass. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}
