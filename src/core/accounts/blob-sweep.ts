// The blob sweep: photo files no account refers to any more (after accounts are purged) are removed.
import type { BlobStore } from '../ports/blob-store.js';
import type { RecordStore } from '../ports/record-store.js';

/** A blob claimed by an upload this recently is never swept, referenced or not (its reference may be on its way). */
export const BLOB_SWEEP_GRACE_MS = 24 * 3600 * 1000;
const BATCH = 500;

export interface SweepResult {
  /** Blobs looked at. */
  checked: number;
  /** Blobs removed. */
  removed: string[];
}

/**
 * Removes every blob that no user (soft-deleted users included) refers to and that no upload
 * claimed since `untouchedSince`. Blobs are looked up in batches; the blob store takes each
 * candidate out of sight and asks again before removing it (see `BlobStore.removeUnused`), so an
 * upload of the same bytes by another user while the sweep runs keeps its blob.
 */
export async function sweepBlobs(store: RecordStore, blobs: BlobStore, untouchedSince: number): Promise<SweepResult> {
  const result: SweepResult = { checked: 0, removed: [] };
  const unreferenced = async (hashes: string[]): Promise<Set<string>> => {
    const refs = await store.referencedBlobs(hashes);
    return new Set(hashes.filter((h) => !refs.has(h)));
  };
  let batch: string[] = [];
  const flush = async () => {
    result.checked += batch.length;
    const candidates = [...(await unreferenced(batch))];
    batch = [];
    if (candidates.length > 0) result.removed.push(...(await blobs.removeUnused(candidates, { untouchedSince, stillUnused: unreferenced })));
  };
  for await (const hash of blobs.list()) {
    batch.push(hash);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return result;
}
