// Writes a per-user snapshot: one content-addressed data object per collection plus a manifest.
import type { BackupBatch, LogRecord } from '../core/ports/record-store.js';
import type { BackupRepository } from './repository.js';
import { names, type SnapshotCollection, type SnapshotPayload, type WriterIdentity } from './repository-format.js';
import { metaHashes } from './meta-hash.js';

/**
 * Writes the snapshot of a complete batch read from offset 0 (the whole user at `batch.seq`), as
 * of segment `segment`. Collections whose records did not change since an earlier snapshot reuse
 * the same `data/…` object (same content, same name), so snapshots of a quiet user cost little.
 * The manifest is written last: a snapshot exists only once all its data does.
 */
export async function writeSnapshot(
  repo: BackupRepository,
  batch: BackupBatch,
  segment: number,
  server: WriterIdentity,
  takenAt: string,
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
  for (const c of batch.collections) {
    const records = byCollection.get(c.id) ?? [];
    const object = await repo.putData('snapshotData', { userId: batch.user.id, collection: c.id, records });
    bytes += records.reduce((n, r) => n + (r.content?.length ?? 0), 0);
    collections.push({
      collection: c,
      object,
      items: records.filter((r) => r.type === 'item').length,
      revisions: records.filter((r) => r.type === 'revision').length,
    });
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
    metaHash: `${meta.account}.${meta.blobs}`,
    collections,
  };
  const name = names.snapshot(batch.user.id, batch.seq, segment);
  await repo.putJson(name, 'snapshot', manifest);
  return { name, bytes };
}
