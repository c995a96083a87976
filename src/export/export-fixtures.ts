// Test fixtures for export, import and scrub: a store with services and an account holding all six kinds.
import { createHash } from 'node:crypto';
import { AccountService } from '../core/accounts/account-service.js';
import { allDayEvent, recurringEvent, taskWithoutStart, vcard3, vcard4 } from '../core/content/content-fixtures.js';
import type { User } from '../core/model.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { Clock } from '../core/ports/clock.js';
import type { RecordStore } from '../core/ports/record-store.js';
import { PhotoBlobs } from '../core/sync/photo-blobs.js';
import { DEFAULT_SYNC_LIMITS, SyncService } from '../core/sync/sync-service.js';
import { MemoryBlobStore } from '../store/memory/blob-store.js';
import { MemoryRecordStore } from '../store/memory/record-store.js';

export interface World {
  store: RecordStore;
  blobs: BlobStore;
  sync: SyncService;
  photos: PhotoBlobs;
  accounts: AccountService;
  newUser(name: string): Promise<User>;
}

const clock: Clock = { now: () => Date.now() };

export function makeWorld(store: RecordStore = new MemoryRecordStore(), blobs: BlobStore = new MemoryBlobStore()): World {
  const accounts = new AccountService(store, clock);
  return {
    store,
    blobs,
    sync: new SyncService(store, blobs, clock),
    photos: new PhotoBlobs(store, blobs, DEFAULT_SYNC_LIMITS.maxBlobBytes),
    accounts,
    async newUser(name) {
      const view = await accounts.addUser(name, 'correct horse battery');
      return (await store.getUser(view.id))!;
    },
  };
}

/** Bytes that sniff as PNG; `seed` makes them distinct. */
export function pngBytes(seed: string, size = 3000): Buffer {
  const head = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const body = Buffer.alloc(size - head.length);
  for (let i = 0; i < body.length; i += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(body, i);
  return Buffer.concat([head, body]);
}

export function blobName(bytes: Buffer): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/** Pushes changes and fails the test on anything but `applied`. */
export async function push(world: World, user: User, changes: Array<{ collection: string; id: string; content?: unknown; deleted?: boolean; baseVersion?: number }>): Promise<void> {
  const { results } = await world.sync.push(user, {
    changes: changes.map((c, i) => ({ changeId: `seed-${Date.now()}-${Math.random()}-${i}`, baseVersion: 0, ...c })),
  });
  for (const r of results) if (r.status !== 'applied') throw new Error(`seed push: ${JSON.stringify(r)}`);
}

/** A user holding every kind: contacts, a recurring event with an exception, a task, notes, photos (two named alike), a score, and a second calendar. */
export async function seedAccount(world: World, name = 'alice'): Promise<{ user: User; photoBlobs: string[] }> {
  const user = await world.newUser(name);
  await world.sync.createCollection(user, { id: 'work', kind: 'calendar', name: 'Work calendar' });
  const photoBytes = [pngBytes(`${name}-1`), pngBytes(`${name}-2`, 5000)];
  for (const bytes of photoBytes) await world.photos.upload(user, blobName(bytes), (async function* () { yield bytes; })());
  await push(world, user, [
    { collection: 'contacts', id: 'A1B2C3D4-0000-4000-8000-000000000001', content: vcard3() },
    { collection: 'contacts', id: 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1', content: vcard4() },
    { collection: 'contacts', id: 'gone-1', content: vcard3('gone-1') },
    { collection: 'calendar', id: 'standup-1', content: recurringEvent() },
    { collection: 'calendar', id: 'holiday-1', content: allDayEvent() },
    { collection: 'work', id: 'holiday-1', content: allDayEvent() },
    { collection: 'tasks', id: 'task-1', content: taskWithoutStart('task-1') },
    { collection: 'notes', id: 'n1', content: { title: 'Shopping / list', body: 'milk\neggs\n' } },
    { collection: 'notes', id: 'n2', content: { title: 'Shopping / list', body: 'the other list' } },
    { collection: 'notes', id: 'n3', content: { title: '../../etc/passwd', body: '' } },
    { collection: 'photos', id: 'p1', content: { blob: blobName(photoBytes[0]), name: 'IMG_0001.png', type: 'image/png', size: photoBytes[0].length, takenAt: '2024-05-01T12:30:00Z' } },
    { collection: 'photos', id: 'p2', content: { blob: blobName(photoBytes[1]), name: 'IMG_0001.png', type: 'image/png', size: photoBytes[1].length } },
    { collection: 'scores', id: 's1', content: { game: 'Tetris', score: 123456, achievedAt: '2024-01-01T10:00:00Z', player: 'Ada' } },
  ]);
  // A tombstone and an overwritten version: neither belongs in an export.
  const gone = await world.store.getItem(user.id, 'contacts', 'gone-1');
  await push(world, user, [{ collection: 'contacts', id: 'gone-1', deleted: true, baseVersion: gone!.version }]);
  const n1 = await world.store.getItem(user.id, 'notes', 'n1');
  await push(world, user, [{ collection: 'notes', id: 'n1', content: { title: 'Shopping / list', body: 'milk\neggs\nbread\n' }, baseVersion: n1!.version }]);
  return { user, photoBlobs: photoBytes.map(blobName) };
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(parts);
}
