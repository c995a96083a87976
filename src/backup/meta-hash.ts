// Fingerprints of a user's non-log data, so a segment carries the account and blob refs only when they changed.
import { createHash } from 'node:crypto';
import type { BackupBatch } from '../core/ports/record-store.js';

function h16(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}

/**
 * `account` covers the user row, device tokens (without `lastUsedAt`, which changes on every
 * request) and collection names/kinds/deletions; `blobs` covers the blob refs.
 */
export function metaHashes(batch: BackupBatch): { account: string; blobs: string } {
  const account = JSON.stringify({
    user: batch.user,
    tokens: batch.tokens.map(({ lastUsedAt: _l, ...t }) => t),
    collections: batch.collections.map((c) => [c.id, c.kind, c.name, c.createdAt, c.deletedAt]),
  });
  return { account: h16(account), blobs: h16(batch.blobRefs.join('\n')) };
}
