// Writes a per-user snapshot: one content-addressed data object per collection plus a manifest.
import type { BackupBatch, LogRecord } from '../core/ports/record-store.js';
import { createHash } from 'node:crypto';
import type { CheckedPut } from './checked-put.js';
import { checkObject } from './object-codec.js';
import type { BackupRepository } from './repository.js';
import { names, type SnapshotCollection, type SnapshotPayload, type WriterIdentity } from './repository-format.js';
import { joinMetaHash, metaHashes } from './meta-hash.js';

/** A collection whose records take about this many bytes or fewer is stored inside the manifest… */
export const INLINE_COLLECTION_BYTES = 16 * 1024;
/** …as long as the manifest's inline records stay within this. */
export const INLINE_MANIFEST_BYTES = 64 * 1024;

/** Bytes a collection's records take in a manifest (the estimate that decides inline or `data/…`). */
function inlineSize(records: readonly LogRecord[]): number {
  return records.reduce((n, r) => n + 200 + (r.content?.length ?? 0), 0);
}

/**
 * True when a snapshot of `batch` would hold every collection inline (one manifest, no data
 * objects). The shipper skips the snapshot at such a user's first shipment: segment 1, read from
 * offset 0, already holds exactly the same rows, account, blob refs and collections, and a
 * snapshot would only double the user's objects (each one a read, a checksum and a decompression
 * for verify and restore, and two fsyncs to write).
 */
export function snapshotFitsInline(batch: BackupBatch): boolean {
  const byCollection = new Map<string, LogRecord[]>();
  for (const r of batch.records) {
    let list = byCollection.get(r.collection);
    if (!list) byCollection.set(r.collection, (list = []));
    list.push(r);
  }
  let budget = INLINE_MANIFEST_BYTES;
  for (const records of byCollection.values()) {
    const size = inlineSize(records);
    if (size > INLINE_COLLECTION_BYTES || size > budget) return false;
    budget -= size;
  }
  return true;
}

/**
 * Writes the snapshot of a complete batch read from offset 0 (the whole user at `batch.seq`), as
 * of segment `segment`. Small collections are written inside the manifest; larger ones go to
 * `data/…` objects, and those whose records did not change since an earlier snapshot reuse the
 * same object (same content, same name), so snapshots of a quiet user cost little.
 * The manifest is written last: a snapshot exists only once all its data does. With `writer`
 * (the shipper's), objects are encoded, written and read back on its worker thread.
 */
export async function writeSnapshot(
  repo: BackupRepository,
  batch: BackupBatch,
  segment: number,
  server: WriterIdentity,
  takenAt: string,
  writer: CheckedPut | null = null,
): Promise<{ name: string; bytes: number }> {
  const byCollection = new Map<string, LogRecord[]>();
  for (const c of batch.collections) byCollection.set(c.id, []);
  for (const r of batch.records) {
    let list = byCollection.get(r.collection);
    if (!list) byCollection.set(r.collection, (list = []));
    list.push(r);
  }
  let bytes = 0;
  const collections: SnapshotCollection[] = [];
  let inlineBudget = INLINE_MANIFEST_BYTES;
  for (const c of batch.collections) {
    const records = byCollection.get(c.id) ?? [];
    const size = inlineSize(records);
    bytes += records.reduce((n, r) => n + (r.content?.length ?? 0), 0);
    const counts = { items: records.filter((r) => r.type === 'item').length, revisions: records.filter((r) => r.type === 'revision').length };
    if (size <= INLINE_COLLECTION_BYTES && size <= inlineBudget) {
      // Small collections ride in the manifest: every object costs a read, a checksum and a
      // decompression on verify and restore, which dominates for users with little data.
      inlineBudget -= size;
      collections.push({ collection: c, records, ...counts });
      continue;
    }
    let object: string;
    if (writer) {
      const json = JSON.stringify({ userId: batch.user.id, collection: c.id, records });
      object = names.data(createHash('sha256').update(json, 'utf8').digest('hex'));
      await writer.put(object, 'snapshotData', json);
    } else object = await repo.putData('snapshotData', { userId: batch.user.id, collection: c.id, records });
    collections.push({ collection: c, object, ...counts });
  }
  const meta = metaHashes(batch);
  const manifest: SnapshotPayload = {
    format: 1,
    userId: batch.user.id,
    seq: batch.seq,
    segment,
    takenAt,
    server,
    account: { user: batch.user, tokens: batch.tokens },
    blobRefs: batch.blobRefs,
    davProperties: batch.davProperties,
    metaHash: joinMetaHash(meta),
    collections,
  };
  const name = names.snapshot(batch.user.id, batch.seq, segment);
  if (writer) {
    // The writer read back and checked each object it created.
    await writer.put(name, 'snapshot', JSON.stringify(manifest));
    return { name, bytes };
  }
  await repo.putJson(name, 'snapshot', manifest);
  // Read back what was just written (as the shipper does for segments and photos): damage at write
  // time is caught now, not at the next verification.
  for (const o of [...collections.flatMap((c) => (c.object ? [c.object] : [])), name]) {
    const back = await repo.target.get(o);
    if (!back) throw new Error(`backup object ${o} is not readable right after it was written`);
    checkObject(o, back);
  }
  return { name, bytes };
}
