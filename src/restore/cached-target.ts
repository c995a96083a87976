// A read-through memory cache in front of a backup target, for the small per-user objects a full
// restore reads once to plan and again in each category pass (snapshot manifests, segments).
import type { BackupObjectInfo, BackupTarget } from '../core/ports/backup-target.js';

/**
 * Keeps the raw (still checksummed, compressed, encrypted) bytes of objects under `users/` up to
 * `budgetBytes` in total; everything else, and anything past the budget, is read from the target
 * every time. Objects are write-once, so a cached copy never goes stale. Reads only: writes and
 * deletes go straight to the target.
 */
export class CachedReadTarget implements BackupTarget {
  readonly description: string;
  private readonly cache = new Map<string, Uint8Array>();
  private used = 0;
  /** Bytes read from the target so far (cache hits not counted). */
  bytesRead = 0;

  constructor(
    private readonly target: BackupTarget,
    private readonly budgetBytes: number,
  ) {
    this.description = target.description;
  }

  async get(name: string): Promise<Uint8Array | null> {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const bytes = await this.target.get(name);
    this.bytesRead += bytes?.length ?? 0;
    if (bytes && name.startsWith('users/') && this.used + bytes.length <= this.budgetBytes) {
      this.cache.set(name, bytes);
      this.used += bytes.length;
    }
    return bytes;
  }

  putIfAbsent(name: string, bytes: Uint8Array): Promise<boolean> {
    return this.target.putIfAbsent(name, bytes);
  }
  rangeGet(name: string, offset: number, length: number): Promise<Uint8Array | null> {
    return this.target.rangeGet(name, offset, length);
  }
  list(prefix: string): AsyncIterable<BackupObjectInfo> {
    return this.target.list(prefix);
  }
  delete(name: string): Promise<void> {
    return this.target.delete(name);
  }
  localPath(): string | null {
    return this.target.localPath();
  }
  /** Drops the cache; the target stays open (its owner closes it). */
  async close(): Promise<void> {
    this.cache.clear();
    this.used = 0;
  }
}
