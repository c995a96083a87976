// Rebuilds a user's state from a snapshot and change segments: the core of restore and verify.
import { collectionDigest } from '../core/digest.js';
import { contentHash } from '../core/hash.js';
import type { Collection, Revision, StoredItem } from '../core/model.js';
import type { DavPropertyRow, LogRecord } from '../core/ports/record-store.js';
import { BackupError } from './backup-error.js';
import type { BackupRepository, UserIndex } from './repository.js';
import type { AccountState, SegmentPayload, SnapshotDataPayload, SnapshotPayload } from './repository-format.js';

/** A user as rebuilt from the backup. */
export interface ReplayedUser {
  userId: string;
  seq: number;
  /** The last segment applied (0 when only a snapshot or nothing). */
  segment: number;
  account: AccountState | null;
  blobRefs: string[];
  /** DAV properties (resource names clients chose, collection colours, …) as last recorded. */
  davProperties: DavPropertyRow[];
  /** Collections as recorded by the last segment or snapshot (their `count`/`digest` are what the store had). */
  collections: Map<string, Collection>;
  /** Current item rows (live and tombstones), keyed `collection \0 id`. */
  items: Map<string, StoredItem>;
  revisions: Revision[];
}

const itemKey = (collection: string, id: string) => `${collection}\u0000${id}`;

export function emptyReplay(userId: string): ReplayedUser {
  return { userId, seq: 0, segment: 0, account: null, blobRefs: [], davProperties: [], collections: new Map(), items: new Map(), revisions: [] };
}

/**
 * Applies log records in sequence order. An `item` record replaces the current row; if that row
 * was live, it becomes a revision (`deleted` when the new row is a tombstone, else `overwritten`),
 * kept at the new row's `modified` — exactly what the store did when it wrote the record. A
 * `revision` record of reason `overwritten`/`deleted` is a version that was replaced before it was
 * shipped: it is applied as the item it was, so the next record for that item turns it into the
 * same revision. A `conflict` revision is kept as is.
 */
export function applyRecords(state: ReplayedUser, records: readonly LogRecord[]): void {
  for (const r of records) {
    if (r.type === 'revision' && r.reason === 'conflict') {
      const { type: _t, ...rev } = r;
      state.revisions.push(rev);
    } else {
      const item: StoredItem = { collection: r.collection, id: r.id, version: r.version, hash: r.hash, modified: r.modified, deleted: r.deleted, content: r.content };
      const k = itemKey(item.collection, item.id);
      const prior = state.items.get(k);
      if (prior && !prior.deleted && prior.version < item.version) {
        state.revisions.push({ ...prior, reason: item.deleted ? 'deleted' : 'overwritten', keptAt: item.modified });
      }
      if (!prior || prior.version < item.version) state.items.set(k, item);
    }
    if (r.version > state.seq) state.seq = r.version;
  }
}

/** Loads a snapshot manifest and (optionally only some of) its collections' data. */
export async function loadSnapshot(repo: BackupRepository, name: string, onlyCollections?: ReadonlySet<string>): Promise<ReplayedUser> {
  const snap = await repo.getJson<SnapshotPayload>(name, 'snapshot');
  const state = emptyReplay(snap.userId);
  state.seq = snap.seq;
  state.segment = snap.segment;
  state.account = snap.account;
  state.blobRefs = snap.blobRefs;
  state.davProperties = snap.davProperties ?? [];
  state.collections = new Map(snap.collections.map((c) => [c.collection.id, c.collection]));
  for (const c of snap.collections) {
    if (onlyCollections && !onlyCollections.has(c.collection.id)) continue;
    let records: LogRecord[];
    if (c.object === undefined) {
      // Small collections are inline in the manifest.
      if (!Array.isArray(c.records)) throw new BackupError('backup_object_corrupt', `snapshot ${name} has neither data nor an object for collection ${c.collection.id}`, { object: name });
      records = c.records;
    } else {
      const data = await repo.getJson<SnapshotDataPayload>(c.object, 'snapshotData');
      if (data.userId !== snap.userId || data.collection !== c.collection.id) {
        throw new BackupError('backup_object_corrupt', `backup object ${c.object} belongs to another user or collection than snapshot ${name} says`, { object: c.object });
      }
      records = data.records;
    }
    for (const r of records) {
      if (r.type === 'item') {
        const { type: _t, ...item } = r;
        state.items.set(itemKey(item.collection, item.id), item);
      } else {
        const { type: _t, ...rev } = r;
        state.revisions.push(rev);
      }
    }
  }
  return state;
}

/**
 * Which objects a restore of the user up to `seq` reads: the newest snapshot at or below `seq`,
 * then every segment that ends after the snapshot and starts below `seq`. Segments normally chain
 * (each starts where the previous ended); two writers that raced may leave overlapping ones,
 * which is harmless because replay merges records by sequence number.
 */
export function restorePath(index: UserIndex, seq = Number.MAX_SAFE_INTEGER): { snapshot: string | null; snapshotSeq: number; segments: string[] } {
  const snap = [...index.snapshots].reverse().find((s) => s.seq <= seq) ?? null;
  const from = snap?.seq ?? 0;
  const after = snap?.segment ?? 0;
  // Segments ending exactly at the snapshot but numbered after it carry later account changes.
  const segments = index.segments.filter((s) => (s.toSeq > from || (s.toSeq === from && s.n > after)) && s.fromSeq < seq).map((s) => s.name);
  return { snapshot: snap?.name ?? null, snapshotSeq: from, segments };
}

/** Sequence numbers not covered by any segment between `from` and `to` (empty when gap-free). */
export function coverageGaps(index: UserIndex, from = 0, to = Number.MAX_SAFE_INTEGER): Array<[number, number]> {
  const ranges = index.segments.filter((s) => s.toSeq > s.fromSeq).map((s) => [s.fromSeq, s.toSeq] as [number, number]).sort((a, b) => a[0] - b[0]);
  const gaps: Array<[number, number]> = [];
  let covered = from;
  for (const [f, t] of ranges) {
    if (t <= covered) continue;
    if (f > covered) gaps.push([covered, f]);
    covered = Math.max(covered, t);
    if (covered >= to) break;
  }
  return gaps;
}

/**
 * Rebuilds the user as of sequence number `seq` (default: the newest), reading only this user's
 * index, one snapshot and the segments after it — never another user's objects. With
 * `collections`, snapshot data and records of other collections are skipped.
 */
export async function replayUser(
  repo: BackupRepository,
  index: UserIndex,
  options: { seq?: number; collections?: ReadonlySet<string> } = {},
): Promise<ReplayedUser> {
  const limit = options.seq ?? Number.MAX_SAFE_INTEGER;
  const path = restorePath(index, limit);
  const state = path.snapshot ? await loadSnapshot(repo, path.snapshot, options.collections) : emptyReplay(index.userId);
  const segments: SegmentPayload[] = [];
  for (const name of path.segments) {
    const seg = await repo.getJson<SegmentPayload>(name, 'segment');
    if (seg.userId !== index.userId) throw new BackupError('backup_object_corrupt', `backup object ${name} belongs to another user`, { object: name });
    segments.push(seg);
  }
  segments.sort((a, b) => a.toSeq - b.toSeq || a.n - b.n);
  const seen = new Set<number>();
  const records: LogRecord[] = [];
  for (const seg of segments) {
    for (const r of seg.records) {
      if (r.version <= path.snapshotSeq || r.version > limit || seen.has(r.version)) continue;
      if (options.collections && !options.collections.has(r.collection)) continue;
      seen.add(r.version);
      records.push(r);
    }
  }
  records.sort((a, b) => a.version - b.version);
  applyRecords(state, records);
  for (const seg of segments) {
    if (seg.toSeq > limit) continue;
    if (seg.account) state.account = seg.account;
    if (seg.blobRefs) state.blobRefs = seg.blobRefs;
    if (seg.davProperties) state.davProperties = seg.davProperties;
    state.collections = new Map(seg.collections.map((c) => [c.id, c]));
    state.seq = Math.max(state.seq, seg.toSeq);
    state.segment = Math.max(state.segment, seg.n);
  }
  return state;
}

/** Live items of one collection of a replayed user. */
export function liveItems(state: ReplayedUser, collection: string): StoredItem[] {
  return [...state.items.values()].filter((i) => i.collection === collection && !i.deleted);
}

/**
 * Compares what replay rebuilt with what the backup recorded: every live item's content must hash
 * to its `hash`, and each collection's count and digest must equal the recorded ones. Returns
 * problems in words (empty when the user is intact).
 */
export function checkReplayed(state: ReplayedUser): string[] {
  const problems: string[] = [];
  for (const i of state.items.values()) {
    if (!i.deleted && i.content !== null && contentHash(i.content) !== i.hash) problems.push(`item ${i.collection}/${i.id} v${i.version}: content does not match its hash`);
  }
  for (const c of state.collections.values()) {
    const live = liveItems(state, c.id);
    if (live.length !== c.count) problems.push(`collection ${c.id}: ${live.length} live items restored, backup recorded ${c.count}`);
    else if (collectionDigest(live) !== c.digest) problems.push(`collection ${c.id}: restored digest differs from the recorded one`);
  }
  return problems;
}
