// The blob-store port: content-addressed photo bytes.

/**
 * Content-addressed storage of photo bytes, named `sha256:<hex>`.
 *
 * Contract (checked by `describeBlobStore` in src/store/contract/blob-store.contract.ts):
 * - `put` streams the bytes, hashes them as they arrive, and makes the blob visible only after
 *   the bytes are durable (temp file, fsync, rename, fsync of the directory, or the backend's
 *   equivalent). If the bytes do not hash to `hash` it throws `blob_hash_mismatch`; past
 *   `maxBytes` it throws `blob_too_large`; an error thrown by the source propagates. In every
 *   failing case nothing becomes visible.
 * - `put` is idempotent: putting an existing blob again succeeds with `created: false`.
 * - Lookups return null for a missing blob; they never throw for "not found".
 * - Blobs are never overwritten in place.
 */
export interface BlobStore {
  readonly description: string;
  put(hash: string, source: AsyncIterable<Uint8Array>, options: { maxBytes: number }): Promise<{ size: number; created: boolean }>;
  stat(hash: string): Promise<{ size: number } | null>;
  /** The blob's bytes as a stream, or null. */
  get(hash: string): Promise<AsyncIterable<Uint8Array> | null>;
  /** Every stored blob name, in no particular order. */
  list(): AsyncIterable<string>;
  close(): Promise<void>;
}
