// The sync use cases: collections, pushing and pulling changes, revisions, trash and status.
import { randomUUID } from 'node:crypto';
import {
  type ChangesResponse,
  type PushResponse,
  type PushResult,
  type WireCollection,
  type WireItem,
  type WireRevision,
} from '../../protocol/sync-protocol.js';
import { formatCursor, parseCursor } from '../cursor.js';
import { fail, isKeepsakeError, KeepsakeError } from '../errors.js';
import { checkId } from '../ids.js';
import { checkKind, KINDS, type Kind } from '../kinds.js';
import type { Collection, PreparedChange, User } from '../model.js';
import type { BlobStore } from '../ports/blob-store.js';
import { type ContentChecker, inlineContentChecker } from '../ports/content-checker.js';
import { type Clock, isoNow } from '../ports/clock.js';
import type { RecordStore, ServerIdentity } from '../ports/record-store.js';
import { RestoreTracker } from '../restore/restore-tracker.js';
import { DEFAULT_MASS_DELETE, massDeleteGuard, type MassDeleteLimits } from './mass-delete-guard.js';
import { checkPhotoBlob } from './photo-blobs.js';
import { parsePushRequest } from './push-request.js';
import { wireCollection, wireItem, wireRevision } from './wire.js';

export interface SyncLimits {
  /** Largest vCard/iCalendar/note text, in bytes. */
  maxTextBytes: number;
  /** Largest photo, in bytes. */
  maxBlobBytes: number;
  massDelete: MassDeleteLimits;
}

export const DEFAULT_SYNC_LIMITS: SyncLimits = {
  maxTextBytes: 1024 * 1024,
  maxBlobBytes: 50 * 1024 * 1024,
  massDelete: DEFAULT_MASS_DELETE,
};

export const DEFAULT_PULL_LIMIT = 500;
export const MAX_PULL_LIMIT = 5000;

/** Per-kind summary for GET /api/v1/status. */
export interface KindStatus {
  kind: Kind;
  collections: number;
  items: number;
  lastChange: string | null;
}

/** How long the server identity and a user's collection list are reused within one process. */
const CACHE_MS = 2_000;

export class SyncService {
  private identityCache: { at: number; value: Promise<ServerIdentity> } | null = null;
  private readonly collectionCache = new Map<string, { at: number; value: Promise<Map<string, Collection>> }>();

  constructor(
    private readonly store: RecordStore,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly limits: SyncLimits = DEFAULT_SYNC_LIMITS,
    /** Set while an online restore runs: reads of categories not back yet answer `restoring`. */
    readonly restores: RestoreTracker = new RestoreTracker(clock),
    /** Checks pushed content; the wiring passes a worker pool. */
    private readonly content: ContentChecker = inlineContentChecker,
  ) {}

  private async collections(user: User): Promise<Map<string, Collection>> {
    return new Map((await this.store.listCollections(user.id)).map((c) => [c.id, c]));
  }

  /**
   * The user's live collections, reused for a moment: pushes need only their kinds (fixed at
   * creation). Counts in it may be stale, so the mass-delete guard reads fresh ones.
   */
  private cachedCollections(user: User): Promise<Map<string, Collection>> {
    const now = this.clock.now();
    const hit = this.collectionCache.get(user.id);
    if (hit && now - hit.at < CACHE_MS) return hit.value;
    if (this.collectionCache.size > 10_000) this.collectionCache.clear();
    const value = this.collections(user);
    value.catch(() => this.collectionCache.delete(user.id));
    this.collectionCache.set(user.id, { at: now, value });
    return value;
  }

  /**
   * A live collection from the list pushes reuse (see `cachedCollections`), or null when that list
   * does not hold it. For a write only: its transaction reads the collection row again, and
   * in-process changes to collections (create, delete, restore) call `forgetCaches`.
   */
  async cachedCollection(user: User, id: string): Promise<Collection | null> {
    return (await this.cachedCollections(user)).get(id) ?? null;
  }

  /** The store's identity, reused for a moment; call `forgetCaches` after a restore changes it. */
  identity(): Promise<ServerIdentity> {
    const now = this.clock.now();
    if (this.identityCache && now - this.identityCache.at < CACHE_MS) return this.identityCache.value;
    const value = this.store.identity();
    value.catch(() => (this.identityCache = null));
    this.identityCache = { at: now, value };
    return value;
  }

  /** Drops cached identity and collections (after restores, or collection changes). */
  forgetCaches(userId?: string): void {
    this.identityCache = null;
    if (userId === undefined) this.collectionCache.clear();
    else this.collectionCache.delete(userId);
  }

  private async requireCollection(user: User, id: string): Promise<Collection> {
    const c = await this.store.getCollection(user.id, id);
    if (!c || c.deletedAt) fail('collection_not_found', `no collection "${id}"`, { collection: id });
    return c;
  }

  async listCollections(user: User): Promise<WireCollection[]> {
    return [...(await this.collections(user)).values()].map(wireCollection);
  }

  async createCollection(user: User, body: unknown): Promise<WireCollection> {
    const b = checkFields(body, ['id', 'kind', 'name'], ['kind', 'name']);
    const name = checkName(b.name);
    const kind = checkKind(b.kind);
    const id = b.id === undefined ? randomUUID() : checkId(b.id, 'id');
    this.forgetCaches(user.id);
    return wireCollection(await this.store.createCollection(user.id, { id, kind, name }, isoNow(this.clock)));
  }

  async renameCollection(user: User, id: string, body: unknown): Promise<WireCollection> {
    const b = checkFields(body, ['name'], ['name']);
    await this.requireCollection(user, id);
    return wireCollection(await this.store.updateCollection(user.id, id, { name: checkName(b.name) }));
  }

  /** Soft delete: the collection disappears from listings; its items stay in the store. */
  async deleteCollection(user: User, id: string): Promise<void> {
    await this.requireCollection(user, id);
    this.forgetCaches(user.id);
    await this.store.updateCollection(user.id, id, { deletedAt: isoNow(this.clock) });
  }

  async pull(user: User, cursor: string | undefined, limit: number = DEFAULT_PULL_LIMIT): Promise<ChangesResponse> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PULL_LIMIT) {
      fail('invalid_request', `limit must be an integer from 1 to ${MAX_PULL_LIMIT}`, { field: 'limit' });
    }
    this.restores.requireAvailable(user.id, KINDS);
    const server = await this.identity();
    const since = parseCursor(cursor, server.epoch, await this.store.lastSeq(user.id));
    const rows = await this.store.listChanges(user.id, since, limit + 1);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const kinds = await this.kindsOf(user);
    return {
      server: { id: server.id, epoch: server.epoch },
      changes: page.map((i) => wireItem(i, kinds.get(i.collection) ?? 'notes')),
      cursor: formatCursor(server.epoch, page.length ? page[page.length - 1].version : since),
      more,
    };
  }

  async push(user: User, body: unknown): Promise<PushResponse> {
    const request = parsePushRequest(body);
    const cols = await this.cachedCollections(user);
    const results: Array<PushResult | null> = request.changes.map(() => null);
    const prepared: Array<{ index: number; change: PreparedChange }> = [];
    const deletes = new Map<string, number>();
    const reject = (index: number, e: unknown) => {
      results[index] = { changeId: request.changes[index].changeId, status: 'rejected', error: toWireError(e) };
    };
    // Content is checked for the whole batch at once (a big batch spreads over threads).
    const toCheck: Array<{ index: number; kind: Kind }> = [];
    for (const [index, c] of request.changes.entries()) {
      const col = cols.get(c.collection);
      if (!col) reject(index, new KeepsakeError('collection_not_found', `no collection "${c.collection}"`, { details: { collection: c.collection } }));
      else if (c.deleted) deletes.set(col.id, (deletes.get(col.id) ?? 0) + 1);
      else toCheck.push({ index, kind: col.kind });
    }
    const checked = await this.content.checkAll(
      toCheck.map(({ index, kind }) => ({ kind, id: request.changes[index].id, content: request.changes[index].content })),
      this.limits,
    );
    const canonical = new Map(toCheck.map(({ index }, n) => [index, checked[n]]));
    for (const [index, c] of request.changes.entries()) {
      if (results[index] !== null) continue;
      try {
        let content: string | null = null;
        let hash: string | null = null;
        if (!c.deleted) {
          const r = canonical.get(index)!;
          if (!r.ok) throw r.error;
          if (cols.get(c.collection)!.kind === 'photos') await checkPhotoBlob(this.store, this.blobs, user, r.value.text);
          ({ text: content, hash } = r.value);
        }
        prepared.push({ index, change: { changeId: c.changeId, collection: c.collection, id: c.id, baseVersion: c.baseVersion, deleted: c.deleted === true, content, hash } });
      } catch (e) {
        reject(index, e);
      }
    }
    if (deletes.size > 0 && request.confirmMassDelete !== true) {
      const fresh = await this.collections(user);
      massDeleteGuard(deletes, (id) => fresh.get(id)?.count ?? 0, this.limits.massDelete, false);
    }
    const outcomes = prepared.length ? await this.store.applyChanges(user.id, prepared.map((p) => p.change), isoNow(this.clock)) : [];
    for (const [n, { index, change }] of prepared.entries()) {
      const o = outcomes[n];
      const kind = cols.get(change.collection)!.kind;
      results[index] =
        o.status === 'applied'
          ? { changeId: change.changeId, status: 'applied', item: wireItem(o.item, kind, false) }
          : o.status === 'duplicate'
            ? { changeId: change.changeId, status: 'duplicate', item: o.item ? wireItem(o.item, kind) : null }
            : o.status === 'conflict'
              ? { changeId: change.changeId, status: 'conflict', item: wireItem(o.item, kind), revision: o.revision }
              : {
                  changeId: change.changeId,
                  status: 'rejected',
                  error: { code: 'item_not_found', message: `cannot delete "${change.id}": the server has no such item` },
                };
    }
    const server = await this.identity();
    return { server: { id: server.id, epoch: server.epoch }, results: results as PushResult[] };
  }

  async getItem(user: User, collection: string, id: string): Promise<WireItem> {
    const col = await this.requireCollection(user, collection);
    this.restores.requireAvailable(user.id, [col.kind]);
    const item = await this.store.getItem(user.id, collection, id);
    if (!item) fail('item_not_found', `no item "${id}" in "${collection}"`);
    return wireItem(item, col.kind);
  }

  async listRevisions(user: User, collection: string, id: string): Promise<WireRevision[]> {
    const col = await this.requireCollection(user, collection);
    this.restores.requireAvailable(user.id, [col.kind]);
    return (await this.store.listRevisions(user.id, collection, id)).map((r) => wireRevision(r, col.kind));
  }

  /** Makes an earlier version current again; what it replaces becomes a revision. */
  async restoreRevision(user: User, collection: string, id: string, version: number): Promise<WireItem> {
    const col = await this.requireCollection(user, collection);
    this.restores.requireAvailable(user.id, [col.kind]);
    const rev = await this.store.getRevision(user.id, collection, id, version);
    if (!rev || rev.content === null) fail('revision_not_found', `no restorable revision ${version} of "${id}"`);
    return this.writeBack(user, col, id, rev.content, rev.hash);
  }

  /** Deleted items whose content is still kept, newest first. */
  async listTrash(user: User, limit = 1000): Promise<WireRevision[]> {
    this.restores.requireAvailable(user.id, KINDS);
    const kinds = await this.kindsOf(user);
    return (await this.store.listTrash(user.id, limit)).map((rev) => wireRevision(rev, kinds.get(rev.collection) ?? 'notes'));
  }

  /** Brings a deleted item back with the content it had when it was deleted. */
  async restoreFromTrash(user: User, collection: string, id: string): Promise<WireItem> {
    const col = await this.requireCollection(user, collection);
    this.restores.requireAvailable(user.id, [col.kind]);
    const item = await this.store.getItem(user.id, collection, id);
    if (!item || !item.deleted) fail('item_not_found', `"${id}" is not in the trash`);
    const rev = (await this.store.listRevisions(user.id, collection, id)).find((r) => r.reason === 'deleted');
    if (!rev || rev.content === null) fail('revision_not_found', `the content of "${id}" is no longer kept`);
    return this.writeBack(user, col, id, rev.content, rev.hash);
  }

  private async writeBack(user: User, col: Collection, id: string, content: string, hash: string): Promise<WireItem> {
    const current = await this.store.getItem(user.id, col.id, id);
    const change: PreparedChange = {
      changeId: `restore-${randomUUID()}`,
      collection: col.id,
      id,
      baseVersion: current?.version ?? 0,
      deleted: false,
      content,
      hash,
    };
    const [o] = await this.store.applyChanges(user.id, [change], isoNow(this.clock));
    if (o.status !== 'applied') fail('internal', `restore of "${id}" raced with another change (${o.status}); retry`);
    return wireItem(o.item, col.kind);
  }

  async status(user: User): Promise<KindStatus[]> {
    const cols = [...(await this.collections(user)).values()];
    return KINDS.map((kind) => {
      const mine = cols.filter((c) => c.kind === kind);
      const last = mine.map((c) => c.lastChangeAt).filter((t): t is string => t !== null).sort().pop() ?? null;
      return { kind, collections: mine.length, items: mine.reduce((n, c) => n + c.count, 0), lastChange: last };
    });
  }

  private async kindsOf(user: User): Promise<Map<string, Kind>> {
    const all = await this.store.listCollections(user.id, { includeDeleted: true });
    return new Map(all.map((c) => [c.id, c.kind]));
  }
}

export function toWireError(e: unknown): { code: string; message: string; details?: Record<string, unknown> } {
  if (isKeepsakeError(e)) return { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
  throw e;
}

function checkFields(body: unknown, allowed: string[], required: string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail('invalid_request', 'body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!allowed.includes(k)) fail('invalid_request', `unknown field "${k}"`, { field: k });
  for (const k of required) if (b[k] === undefined) fail('invalid_request', `field "${k}" is required`, { field: k });
  return b;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    fail('invalid_request', 'name must be a non-empty string of at most 200 characters', { field: 'name' });
  }
  return name;
}
