// One user of a bulk restore, decoded and validated per category into compact rows (built on the
// decoding worker threads, written by the main thread).
import type { ReplayedUser } from '../backup/replay.js';
import { collectionDigest } from '../core/digest.js';
import { contentHash } from '../core/hash.js';
import type { Kind } from '../core/kinds.js';
import type { FreshCategory } from '../store/sqlite/bulk-restore.js';
import type { PlannedUser } from './restore-planner.js';
import type { BackupServer } from './restore-planner.js';
import { blobOf } from './restore-blobs.js';

/** One category of a decoded user: its rows when it validated, else what is wrong with it. */
export interface DecodedCategory {
  kind: Kind;
  /** Why the category does not validate (empty: it does; then `rows` is set). */
  problems: string[];
  rows: FreshCategory | null;
  /** Live items the category holds (what the progress counts). */
  live: number;
  /** For photos: the blobs its live items point at (their bytes must be in the blob store first). */
  blobs: string[];
}

/** A user as a decoding worker sends it back. */
export interface DecodedUser {
  userId: string;
  /** Set when the user's backup could not be read far enough to plan them (all categories quarantined). */
  problem?: string;
  /** Null when there is nothing to restore (no objects, nothing by the restore point, no account). */
  user: PlannedUser | null;
  writer: BackupServer | null;
  /** The asked-for kinds among those the user has collections of. */
  categories: DecodedCategory[];
  /** Blobs the user's live photo items point at (for the photo copier). */
  photos: string[];
}

/**
 * Validation before serving, in one pass over the user's items: every live item of the kind's
 * collections hashes to its hash, and each collection's live count and digest are the recorded
 * ones (the same checks, and words, as `checkReplayed`). Rows are built only when it validates.
 */
export function decodeCategory(state: ReplayedUser, kind: Kind): DecodedCategory {
  const cols = [...state.collections.values()].filter((c) => c.kind === kind);
  const live = new Map(cols.map((c) => [c.id, [] as Array<{ id: string; hash: string }>]));
  const problems: string[] = [];
  const items: Array<string | number | null> = [];
  const keys = new Set<string>();
  for (const i of state.items.values()) {
    const mine = live.get(i.collection);
    if (!mine) continue;
    if (!i.deleted) {
      if (i.content !== null && contentHash(i.content) !== i.hash) problems.push(`item ${i.collection}/${i.id} v${i.version}: content does not match its hash`);
      mine.push({ id: i.id, hash: i.hash });
    }
    items.push(i.collection, i.id, i.hash, i.modified, i.deleted ? 1 : 0, i.content);
    keys.add(`${i.collection}\u0000${i.id}`);
  }
  let count = 0;
  for (const c of cols) {
    const l = live.get(c.id)!;
    count += l.length;
    if (l.length !== c.count) problems.push(`collection ${c.id}: ${l.length} live items restored, backup recorded ${c.count}`);
    else if (collectionDigest(l) !== c.digest) problems.push(`collection ${c.id}: restored digest differs from the recorded one`);
  }
  if (problems.length > 0) return { kind, problems, rows: null, live: count, blobs: [] };
  // Revisions go with their item (as the item-by-item path pairs them).
  const revisions: Array<string | number | null> = [];
  for (const r of state.revisions) {
    if (!keys.has(`${r.collection}\u0000${r.id}`)) continue;
    revisions.push(r.collection, r.id, r.version, r.hash, r.modified, r.deleted ? 1 : 0, r.content, r.reason, r.keptAt);
  }
  const collections = cols.map((c) => ({ id: c.id, count: c.count, digest: c.digest }));
  const blobs: string[] = [];
  if (kind === 'photos') {
    for (const i of state.items.values()) {
      const b = live.has(i.collection) ? blobOf(i) : null;
      if (b) blobs.push(b);
    }
  }
  return { kind, problems, rows: { collections, items, revisions }, live: count, blobs };
}

/** Blobs the live items of the user's photo collections point at. */
export function photoBlobs(state: ReplayedUser): string[] {
  const photos = new Set([...state.collections.values()].filter((c) => c.kind === 'photos').map((c) => c.id));
  const out: string[] = [];
  for (const i of state.items.values()) {
    const b = photos.has(i.collection) ? blobOf(i) : null;
    if (b) out.push(b);
  }
  return out;
}
