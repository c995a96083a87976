// The payload of a user's next segment: the records of a batch, plus the parts that changed.
import type { BackupBatch } from '../core/ports/record-store.js';
import { joinMetaHash, type MetaHashes, splitMetaHash } from './meta-hash.js';
import type { SegmentPayload, WriterIdentity } from './repository-format.js';

/**
 * Segment `previous.n + 1` of the user, covering `(previous.toSeq, batch.upTo]`. The account,
 * blob refs and DAV properties ride along when their fingerprints differ from `previous.metaHash`,
 * and always in segment 1 (see docs/backup-format.md).
 */
export function segmentPayload(
  batch: BackupBatch,
  previous: { n: number; toSeq: number; metaHash: string | null } | null,
  meta: MetaHashes,
  server: WriterIdentity,
  shippedAt: string,
): SegmentPayload {
  const old = splitMetaHash(previous?.metaHash);
  const n = (previous?.n ?? 0) + 1;
  const seg: SegmentPayload = {
    format: 1,
    userId: batch.user.id,
    n,
    fromSeq: previous?.toSeq ?? 0,
    toSeq: batch.upTo,
    shippedAt,
    server,
    collections: batch.collections,
    metaHash: joinMetaHash(meta),
    records: batch.records,
  };
  if (meta.account !== old.account || n === 1) seg.account = { user: batch.user, tokens: batch.tokens };
  if (meta.blobs !== old.blobs || n === 1) seg.blobRefs = batch.blobRefs;
  if (meta.dav !== old.dav || n === 1) seg.davProperties = batch.davProperties;
  return seg;
}
