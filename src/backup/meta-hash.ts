// Fingerprints of a user's non-log data, so a segment carries the account, blob refs and DAV
// properties only when they changed.
import { createHash } from 'node:crypto';
import type { BackupBatch } from '../core/ports/record-store.js';

/** Fingerprints of the parts of a user a segment carries only when they changed. */
export interface MetaHashes {
  account: string;
  blobs: string;
  /** '' when the user has no DAV properties (so repositories written before they were backed up keep their fingerprints). */
  dav: string;
}

function h16(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}

/**
 * `account` covers the user row, device tokens (without `lastUsedAt`, which changes on every
 * request) and collection names/kinds/deletions; `blobs` covers the blob refs; `dav` the DAV
 * properties.
 */
export function metaHashes(batch: BackupBatch): MetaHashes {
  const account = JSON.stringify({
    user: batch.user,
    tokens: batch.tokens.map(({ lastUsedAt: _l, ...t }) => t),
    collections: batch.collections.map((c) => [c.id, c.kind, c.name, c.createdAt, c.deletedAt]),
  });
  const dav = batch.davProperties.length === 0 ? '' : h16(JSON.stringify(batch.davProperties));
  return { account: h16(account), blobs: h16(batch.blobRefs.join('\n')), dav };
}

/** The `metaHash` field of segments and snapshots: `account.blobs`, then `.dav` when there is one. */
export function joinMetaHash(m: MetaHashes): string {
  return m.dav === '' ? `${m.account}.${m.blobs}` : `${m.account}.${m.blobs}.${m.dav}`;
}

/** The parts of a `metaHash` field ('' for parts it lacks). */
export function splitMetaHash(s: string | null | undefined): MetaHashes {
  const [account = '', blobs = '', dav = ''] = (s ?? '').split('.');
  return { account, blobs, dav };
}
