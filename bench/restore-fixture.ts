// Builds the restore benchmark's repository fast: real users and content (vCards, iCalendar, notes,
// scores, JPEG-headed photos) shipped by the real shipper, written without fsync (scratch data).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BackupRepository } from '../src/backup/repository.js';
import { BackupShipper } from '../src/backup/shipper.js';
import { FileTarget } from '../src/backup/targets/file/file-target.js';
import { contentHash } from '../src/core/hash.js';
import { defaultCollections } from '../src/core/kinds.js';
import type { PreparedChange } from '../src/core/model.js';
import type { BackupObjectInfo, BackupTarget } from '../src/core/ports/backup-target.js';
import { MemoryBlobStore } from '../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../src/store/memory/record-store.js';
import { mixedChange } from './load.js';

/**
 * The directory target's layout, written without fsync or temp files: building 50,000 users with
 * a durable target spends its time in fsync, which says nothing about restore. Reads go through
 * the real {@link FileTarget}.
 */
class ScratchFileTarget implements BackupTarget {
  readonly description: string;
  private readonly reader: FileTarget;
  private readonly dirs = new Set<string>();

  constructor(private readonly root: string) {
    this.reader = new FileTarget(root);
    this.description = `scratch file://${root}`;
  }

  async putIfAbsent(name: string, bytes: Uint8Array): Promise<boolean> {
    const path = join(this.root, ...name.split('/'));
    const dir = dirname(path);
    if (!this.dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.dirs.add(dir);
    }
    try {
      await writeFile(path, bytes, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }
  get(name: string) {
    return this.reader.get(name);
  }
  rangeGet(name: string, offset: number, length: number) {
    return this.reader.rangeGet(name, offset, length);
  }
  list(prefix: string): AsyncIterable<BackupObjectInfo> {
    return this.reader.list(prefix);
  }
  delete(name: string) {
    return this.reader.delete(name);
  }
  localPath() {
    return this.root;
  }
  async close() {}
}

function prepared(c: ReturnType<typeof mixedChange>): PreparedChange {
  const text = typeof c.content === 'string' ? c.content : JSON.stringify(Object.fromEntries(Object.entries(c.content as object).sort()));
  return { changeId: c.changeId, collection: c.collection, id: c.id, baseVersion: 0, deleted: false, content: text, hash: contentHash(text) };
}

export interface RestoreFixtureOptions {
  /** Where plain copies of the same content go (for restic). Null: none. */
  exportDir: string | null;
  itemsPerUser: number;
  photoBytes: number;
  photoSize: number;
}

/**
 * A growing population of users in a memory store, shipped to `repo` (through a scratch writer on
 * the same directory). `addUsers` can be called again to grow the repository; only new users are
 * shipped then (the shipper skips users it already has).
 */
export class RestoreFixture {
  readonly store = new MemoryRecordStore();
  readonly blobs = new MemoryBlobStore();
  private readonly shipper: BackupShipper;
  private readonly now = new Date().toISOString();
  private photoLeft: number;
  users = 0;

  constructor(
    repo: BackupRepository,
    root: string,
    private readonly o: RestoreFixtureOptions,
  ) {
    this.shipper = new BackupShipper(this.store, this.blobs, [repo.withTarget(new ScratchFileTarget(root))], { parallelUsers: 16 });
    this.photoLeft = o.photoBytes;
  }

  /** One user with `items` mixed items (no photo), e.g. the 5,000-item user. Returns its id. */
  async addBigUser(name: string, items: number): Promise<string> {
    const user = await this.store.createUser({ id: randomUUID(), name, passwordHash: 'x', admin: false, createdAt: this.now, deletedAt: null }, defaultCollections());
    const all: PreparedChange[] = [];
    for (let i = 0; i < items; i += 500) {
      const part = Array.from({ length: Math.min(500, items - i) }, (_, j) => prepared(mixedChange(i + j)));
      await this.store.applyChanges(user.id, part, this.now);
      all.push(...part);
    }
    this.exportUser(name, all, null);
    return user.id;
  }

  /** Adds `count` users with mixed items and (while the photo budget lasts) one photo each, then ships. */
  async addUsers(count: number): Promise<void> {
    for (let k = 0; k < count; k++) {
      const u = this.users++;
      const user = await this.store.createUser({ id: randomUUID(), name: `u${u}`, passwordHash: 'x', admin: false, createdAt: this.now, deletedAt: null }, defaultCollections());
      const changes = Array.from({ length: this.o.itemsPerUser }, (_, i) => prepared(mixedChange(u * 31 + i)));
      let photo: Buffer | null = null;
      if (this.photoLeft > 0) {
        photo = randomBytes(this.o.photoSize);
        photo.set([0xff, 0xd8, 0xff, 0xe0], 0);
        const hash = contentHash(photo);
        const bytes = photo;
        await this.blobs.put(hash, (async function* () {
          yield bytes;
        })(), { maxBytes: 1e10 });
        await this.store.addBlobRef(user.id, hash);
        const text = JSON.stringify({ blob: hash, name: 'p.jpg', size: photo.length, type: 'image/jpeg' });
        changes.push({ changeId: randomUUID(), collection: 'photos', id: `p${u}`, baseVersion: 0, deleted: false, content: text, hash: contentHash(text) });
        this.photoLeft -= photo.length;
      }
      await this.store.applyChanges(user.id, changes, this.now);
      this.exportUser(`u${u}`, changes, photo);
    }
    await this.shipper.passOnce(false);
  }

  private exportUser(name: string, changes: PreparedChange[], photo: Buffer | null): void {
    if (!this.o.exportDir) return;
    const dir = join(this.o.exportDir, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'items.json'), JSON.stringify(changes.map((c) => c.content)));
    if (photo) writeFileSync(join(dir, 'p.jpg'), photo);
  }

  /** Stops exporting plain copies (the restic comparison uses the first population only). */
  stopExport(): void {
    this.o.exportDir = null;
  }
}
