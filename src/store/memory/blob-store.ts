// In-memory blob store: the reference implementation of the BlobStore port, for fast tests.
import { createHash } from 'node:crypto';
import { KeepsakeError } from '../../core/errors.js';
import { isContentHash } from '../../core/hash.js';
import type { BlobStore } from '../../core/ports/blob-store.js';

const CHUNK = 64 * 1024;

/** Keeps blobs in process memory; nothing survives a restart. */
export class MemoryBlobStore implements BlobStore {
  readonly description = 'memory';
  private readonly blobs = new Map<string, Buffer>();
  /** Lease of each blob: when it was last written or claimed by a `put`. */
  private readonly touched = new Map<string, number>();

  async put(hash: string, source: AsyncIterable<Uint8Array>, options: { maxBytes: number }): Promise<{ size: number; created: boolean }> {
    if (!isContentHash(hash)) throw new KeepsakeError('invalid_request', 'blob name must be sha256:<64 lowercase hex digits>');
    if (this.blobs.has(hash)) this.touched.set(hash, Date.now());
    const hasher = createHash('sha256');
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of source) {
      size += chunk.length;
      if (size > options.maxBytes) throw new KeepsakeError('blob_too_large', `the blob exceeds ${options.maxBytes} bytes`);
      hasher.update(chunk);
      parts.push(Buffer.from(chunk)); // a copy: the caller may reuse its buffer
    }
    const actual = `sha256:${hasher.digest('hex')}`;
    if (actual !== hash) throw new KeepsakeError('blob_hash_mismatch', `the bytes hash to ${actual}, not ${hash}`, { details: { blob: hash } });
    this.touched.set(hash, Date.now());
    if (this.blobs.has(hash)) return { size, created: false };
    this.blobs.set(hash, Buffer.concat(parts));
    return { size, created: true };
  }

  async stat(hash: string): Promise<{ size: number } | null> {
    const b = this.blobs.get(hash);
    return b ? { size: b.length } : null;
  }

  async get(hash: string): Promise<AsyncIterable<Uint8Array> | null> {
    const b = this.blobs.get(hash);
    if (!b) return null;
    return (async function* () {
      for (let i = 0; i < b.length; i += CHUNK) yield b.subarray(i, i + CHUNK);
    })();
  }

  async *list(): AsyncIterable<string> {
    yield* [...this.blobs.keys()];
  }

  async removeUnused(hashes: readonly string[], options: { untouchedSince: number; stillUnused(hashes: string[]): Promise<Set<string>> }): Promise<string[]> {
    const aside = new Map<string, Buffer>();
    for (const h of hashes) {
      const b = this.blobs.get(h);
      if (!b || (this.touched.get(h) ?? 0) >= options.untouchedSince) continue;
      aside.set(h, b);
      this.blobs.delete(h);
    }
    const unused = await options.stillUnused([...aside.keys()]);
    const removed: string[] = [];
    for (const [h, b] of aside) {
      if (unused.has(h) && (this.touched.get(h) ?? 0) < options.untouchedSince) {
        // A `put` while it was out of sight wrote it anew: that copy stays.
        if (!this.blobs.has(h)) {
          this.touched.delete(h);
          removed.push(h);
        }
      } else this.blobs.set(h, b);
    }
    return removed;
  }

  async close(): Promise<void> {}
}
