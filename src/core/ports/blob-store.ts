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
 * - `put` is idempotent: putting an existing blob again succeeds with `created: false`. Every
 *   `put` of an existing blob renews its lease (`touchedAt`, on a file store the mtime) before it
 *   reads the bytes, so a blob being claimed is never swept (see `removeUnused`).
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
  /**
   * The blob sweep: removes those of `hashes` whose lease is older than `untouchedSince` (ms since
   * the epoch) and that `stillUnused` confirms no one refers to. Safe against a concurrent `put`
   * of the same blob followed by its reference: each candidate is first taken out of sight, then
   * its lease is read again and `stillUnused` asked; a blob that was claimed meanwhile is put back
   * (a `put` that found it out of sight writes it anew). A crash in between leaves the blob in
   * place, or out of sight until the store is opened again, which puts it back. Returns the
   * hashes removed.
   */
  removeUnused(hashes: readonly string[], options: { untouchedSince: number; stillUnused(hashes: string[]): Promise<Set<string>> }): Promise<string[]>;
  close(): Promise<void>;
}
