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

  async put(hash: string, source: AsyncIterable<Uint8Array>, options: { maxBytes: number }): Promise<{ size: number; created: boolean }> {
    if (!isContentHash(hash)) throw new KeepsakeError('invalid_request', 'blob name must be sha256:<64 lowercase hex digits>');
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

  async close(): Promise<void> {}
}
