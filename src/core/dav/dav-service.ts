// The DAV use cases on the one store: items by collection, conditional writes, deletes into the
// trash, change lists for sync-collection, and undo of a device's mass deletion.
import { randomUUID } from 'node:crypto';
import { fail } from '../errors.js';
import { contentHash } from '../hash.js';
import { KINDS, type Kind } from '../kinds.js';
import type { Collection, StoredItem, User } from '../model.js';
import type { Clock } from '../ports/clock.js';
import type { ReadOptions, RecordStore, ServerIdentity } from '../ports/record-store.js';
import type { PhotoBlobs } from '../sync/photo-blobs.js';
import type { SyncService } from '../sync/sync-service.js';
import { type DavDelete, deletesSince, massDeletionsOf, type MassDeletion, REMEMBER_MS } from './delete-watch.js';
import { formatSyncToken, parseSyncToken } from './sync-token.js';

/** Who is writing: the device token's name and id, or the account password (no id). */
export interface DavDevice {
  name: string;
  id: string | null;
}

/** `If-Match` / `If-None-Match` as parsed from the request: `'*'` or a list of entity tags. */
export interface Preconditions {
  ifMatch?: '*' | string[];
  ifNoneMatch?: '*' | string[];
}

/** The outcome of a write: whether it created the resource, and the new version and hash. */
export interface DavWrite {
  created: boolean;
  version: number;
  hash: string;
}

/** What changed in one collection since a sync token. */
export interface DavChanges {
  token: string;
  changed: StoredItem[];
  /** Ids of items deleted since the token. */
  deleted: string[];
  /** True when a limit cut the list short: `token` then resumes right after the last one reported. */
  truncated: boolean;
}

/** The ETag of an item: its content hash, as a strong entity tag. */
export function etagOf(item: { hash: string }): string {
  return `"${item.hash}"`;
}

/** Fails with `precondition_failed` unless `If-Match` / `If-None-Match` hold for `current` (null: no resource). */
export function checkPreconditions(current: StoredItem | null, pre: Preconditions): void {
  // RFC 7232 §3.1/§3.2; RFC 4791 §5.3.2 relies on them to avoid lost updates.
  if (pre.ifMatch !== undefined) {
    const ok = current !== null && (pre.ifMatch === '*' || pre.ifMatch.includes(etagOf(current)));
    if (!ok) fail('precondition_failed', current ? 'the resource changed since you read it (If-Match)' : 'the resource does not exist (If-Match)');
  }
  if (pre.ifNoneMatch !== undefined) {
    const hit = current !== null && (pre.ifNoneMatch === '*' || pre.ifNoneMatch.includes(etagOf(current)));
    if (hit) fail('precondition_failed', 'the resource already exists (If-None-Match)');
  }
}

const PAGE = 5000;

/**
 * Where DAV deletes are recorded: a pseudo-collection in the DAV property store (collection ids
 * never hold control characters, so it cannot clash with a real one), one resource per delete.
 */
const DELETE_LOG = '\u0001dav-deletes';
const DELETE_PROP = '{urn:keepsake:dav}delete';

export class DavService {
  constructor(
    private readonly store: RecordStore,
    private readonly sync: SyncService,
    private readonly photos: PhotoBlobs,
    private readonly clock: Clock,
    private readonly massDelete: { share: number; minItems: number },
  ) {}

  identity(): Promise<ServerIdentity> {
    return this.sync.identity();
  }

  /** The user's live collections. */
  async collections(user: User): Promise<Collection[]> {
    return this.store.listCollections(user.id);
  }

  /** A live collection; `collection_not_found` otherwise. */
  async collection(user: User, id: string, options?: ReadOptions): Promise<Collection> {
    const c = await this.store.getCollection(user.id, id, options);
    if (!c || c.deletedAt) fail('collection_not_found', `no collection "${id}"`, { collection: id });
    return c;
  }

  /**
   * The live collection a PUT writes to. Taken from the list pushes reuse for a moment (SyncService
   * `cachedCollection`), which saves a read on every PUT; the write itself goes through `push`,
   * which uses that same list. Not in it (new, or gone): read now, `collection_not_found` if absent.
   */
  async collectionForWrite(user: User, id: string): Promise<Collection> {
    return (await this.sync.cachedCollection(user, id)) ?? this.collection(user, id, { unsettled: true });
  }

  /**
   * DAV clients mirror what they read, so during an online restore a collection that is not back
   * yet answers `restoring` instead of looking empty or partial (reads only; writes are accepted).
   */
  private async requireRestored(user: User, collection: string): Promise<void> {
    if (!this.sync.restores.affects(user.id)) return;
    const c = await this.store.getCollection(user.id, collection);
    this.sync.restores.requireAvailable(user.id, c ? [c.kind] : KINDS);
  }

  /**
   * The item or tombstone `id` as stored, for a write to base itself on. Unlike `item` it answers
   * during an online restore too: writes are accepted then. Read unsettled (see `ReadOptions`):
   * the write that follows is acknowledged only once everything before it is durable, and an
   * error is answered only after `settled()` (dav-routes.ts).
   */
  storedItem(user: User, collection: string, id: string): Promise<StoredItem | null> {
    return this.store.getItem(user.id, collection, id, { unsettled: true });
  }

  /** Resolves once everything an unsettled read could have seen is durable. */
  settled(): Promise<void> {
    return this.store.settled();
  }

  /** A live item, or null (tombstones count as absent). */
  async item(user: User, collection: string, id: string): Promise<StoredItem | null> {
    await this.requireRestored(user, collection);
    const i = await this.store.getItem(user.id, collection, id);
    return i && !i.deleted ? i : null;
  }

  /** Every live item of a collection, ascending by id. */
  async liveItems(user: User, collection: string): Promise<StoredItem[]> {
    await this.requireRestored(user, collection);
    const out: StoredItem[] = [];
    let afterId: string | undefined;
    for (;;) {
      const page = await this.store.listItems(user.id, collection, { afterId, limit: PAGE });
      out.push(...page);
      if (page.length < PAGE) return out;
      afterId = page[page.length - 1].id;
    }
  }

  /** The token a client holds after reading the collection now (RFC 6578 DAV:sync-token). */
  async currentToken(user: User): Promise<string> {
    return formatSyncToken(await this.identity(), await this.store.lastSeq(user.id));
  }

  /**
   * Changes to one collection after `token` (empty: every live item). The returned token is
   * the log position read *before* listing, so a change racing with this call is reported again
   * next time rather than missed.
   */
  async changesSince(user: User, collection: string, token: string, limit = Infinity): Promise<DavChanges> {
    await this.requireRestored(user, collection);
    const server = await this.identity();
    const last = await this.store.lastSeq(user.id);
    const since = parseSyncToken(token, server, last);
    const next = formatSyncToken(server, last);
    if (since === 0) {
      const live = await this.liveItems(user, collection);
      if (live.length <= limit) return { token: next, changed: live, deleted: [], truncated: false };
      // RFC 6578 §3.7: the first `limit` in log order, and a token at the last of them, so the
      // next request returns the rest (and anything changed since).
      const first = live.sort((a, b) => a.version - b.version).slice(0, limit);
      return { token: formatSyncToken(server, first[first.length - 1].version), changed: first, deleted: [], truncated: true };
    }
    const changed: StoredItem[] = [];
    const deleted: string[] = [];
    let after = since;
    let reported = 0;
    for (;;) {
      const page = await this.store.listChanges(user.id, after, PAGE);
      for (const i of page) {
        if (i.collection !== collection) continue;
        if (reported === limit) return { token: formatSyncToken(server, after), changed, deleted, truncated: true };
        if (i.deleted) deleted.push(i.id);
        else changed.push(i);
        reported++;
        after = i.version;
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1].version;
    }
    return { token: next, changed, deleted, truncated: false };
  }

  /**
   * Writes a vCard or iCalendar text as item `id`, through the same push use case as the JSON API
   * (same validation, versions, hashes, revisions). A write that loses a race with another
   * change is kept as a conflict revision and answered `precondition_failed`.
   */
  async putText(user: User, col: Collection, id: string, text: string, pre: Preconditions, known?: StoredItem | null): Promise<DavWrite> {
    // `known`: the item (or tombstone) as the caller just read it, saving a read that would wait for an fsync.
    const current = known !== undefined ? known : await this.store.getItem(user.id, col.id, id);
    const live = current && !current.deleted ? current : null;
    checkPreconditions(live, pre);
    return this.write(user, col, id, current, text, live === null);
  }

  private async write(user: User, col: Collection, id: string, current: StoredItem | null, content: unknown, created: boolean): Promise<DavWrite> {
    const r = await this.sync.push(user, {
      changes: [{ changeId: `dav-${randomUUID()}`, collection: col.id, id, baseVersion: current?.version ?? 0, content }],
    });
    const result = r.results[0];
    if (result.status === 'rejected') throw rejected(result.error);
    if (result.status === 'conflict') fail('precondition_failed', `"${id}" was changed by another client at the same moment; your version is kept as revision ${result.revision}`);
    if (!result.item) fail('internal', `write of "${id}" returned no item`);
    return { created, version: result.item.version, hash: result.item.hash };
  }

  /** The content an item had when it was deleted (the newest `deleted` revision), or null. */
  async contentBeforeDelete(user: User, collection: string, id: string): Promise<string | null> {
    const rev = (await this.store.listRevisions(user.id, collection, id)).find((r) => r.reason === 'deleted');
    return rev?.content ?? null;
  }

  /** Reads a photo's bytes. */
  readPhoto(user: User, blob: string) {
    return this.photos.read(user, blob);
  }

  /**
   * Deletes an item into the trash and records the delete durably with the device that made it,
   * so a mass deletion can be shown and undone even after a restart.
   */
  async deleteItem(user: User, device: DavDevice, col: Collection, id: string, pre: Preconditions): Promise<void> {
    const current = await this.item(user, col.id, id);
    if (!current) fail('item_not_found', `no item "${id}" in "${col.id}"`);
    checkPreconditions(current, pre);
    // One delete never trips the per-request guard; the recorded bursts cover DAV.
    const r = await this.sync.push(user, {
      changes: [{ changeId: `dav-${randomUUID()}`, collection: col.id, id, baseVersion: current.version, deleted: true }],
    });
    const result = r.results[0];
    if (result.status === 'rejected') throw rejected(result.error);
    if (result.status === 'conflict') fail('precondition_failed', `"${id}" was changed by another client at the same moment; it was not deleted`);
    await this.recordDeletes(user, device, col, [{ id, version: result.item!.version }]);
  }

  /**
   * Records deletes just applied in `col` (in the order applied) with the device that made them,
   * so a mass deletion can be shown and undone even after a restart.
   */
  async recordDeletes(user: User, device: DavDevice, col: Collection, deletes: Array<{ id: string; version: number }>): Promise<void> {
    const after = (await this.store.getCollection(user.id, col.id))?.count ?? 0;
    const at = this.clock.now();
    for (const [n, { id, version }] of deletes.entries()) {
      const d: DavDelete = { device: device.name, deviceId: device.id, collection: col.id, id, version, at, liveAfter: after + (deletes.length - 1 - n) };
      await this.store.setDavProperties(user.id, DELETE_LOG, `${String(d.at).padStart(15, '0')}-${randomUUID()}`, { [DELETE_PROP]: JSON.stringify(d) });
    }
  }

  /** Recorded DAV deletes of the user still remembered (older ones are forgotten here). */
  private async recordedDeletes(user: User): Promise<Array<DavDelete & { key: string }>> {
    const now = this.clock.now();
    const out: Array<DavDelete & { key: string }> = [];
    for (const [key, props] of await this.store.listDavProperties(user.id, DELETE_LOG)) {
      const d = JSON.parse(props[DELETE_PROP] ?? 'null') as DavDelete | null;
      if (!d) continue;
      if (now - d.at > REMEMBER_MS) await this.store.setDavProperties(user.id, DELETE_LOG, key, { [DELETE_PROP]: null });
      else out.push({ ...d, key });
    }
    return out;
  }

  /** Mass deletions by DAV devices, newest first (for /api/v1/status). */
  async massDeletions(user: User): Promise<MassDeletion[]> {
    return massDeletionsOf(await this.recordedDeletes(user), this.massDelete);
  }

  /**
   * Brings back everything `device` (name or token id) deleted over DAV at or after `since`,
   * unless the item was written again since. Returns what was restored and what was skipped.
   */
  async undoDeletes(user: User, device: string, since: number): Promise<{ restored: Array<{ collection: string; id: string }>; skipped: number }> {
    const restored: Array<{ collection: string; id: string }> = [];
    let skipped = 0;
    for (const d of deletesSince(await this.recordedDeletes(user), device, since) as Array<DavDelete & { key: string }>) {
      const current = await this.store.getItem(user.id, d.collection, d.id);
      if (current && current.deleted && current.version === d.version) {
        await this.sync.restoreFromTrash(user, d.collection, d.id);
        restored.push({ collection: d.collection, id: d.id });
      } else skipped++;
      // Undone (or overtaken by a later write): no longer part of a mass deletion.
      await this.store.setDavProperties(user.id, DELETE_LOG, d.key, { [DELETE_PROP]: null });
    }
    return { restored, skipped };
  }

  /** DAV properties of a collection (`resource` '') or item. */
  properties(user: User, collection: string, resource: string, options?: ReadOptions): Promise<Record<string, string>> {
    return this.store.getDavProperties(user.id, collection, resource, options);
  }

  /** DAV properties of every resource in a collection that has any. */
  allProperties(user: User, collection: string): Promise<Map<string, Record<string, string>>> {
    return this.store.listDavProperties(user.id, collection);
  }

  setProperties(user: User, collection: string, resource: string, patch: Record<string, string | null>): Promise<void> {
    return this.store.setDavProperties(user.id, collection, resource, patch);
  }

  async createCollection(user: User, id: string, kind: Kind, name: string): Promise<Collection> {
    await this.sync.createCollection(user, { id, kind, name });
    return this.collection(user, id);
  }

  async renameCollection(user: User, id: string, name: string): Promise<void> {
    await this.sync.renameCollection(user, id, { name });
  }

  async deleteCollection(user: User, id: string): Promise<void> {
    await this.sync.deleteCollection(user, id);
  }
}

function rejected(error: { code: string; message: string; details?: Record<string, unknown> }): Error {
  try {
    fail(error.code as Parameters<typeof fail>[0], error.message, error.details);
  } catch (e) {
    return e as Error;
  }
}
