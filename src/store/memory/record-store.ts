// In-memory record store: the reference implementation of the port, for fast tests.
import { randomUUID } from 'node:crypto';
import { mergeBackupRecords } from '../../core/backup-records.js';
import { planChange, revisionChangeId } from '../../core/change-plan.js';
import { planRestoreItem } from '../../core/restore/restore-item-plan.js';
import { EMPTY_DIGEST } from '../../core/digest.js';
import { KeepsakeError } from '../../core/errors.js';
import type {
  ChangeOutcome,
  Collection,
  DeviceToken,
  NewCollection,
  PreparedChange,
  Revision,
  StoredItem,
  User,
} from '../../core/model.js';
import type { AdoptedIdentity, BackupBatch, DavPropertyRow, RestoredAccount, RestoredItem, RestoreItemsResult, LogRecord, RecordStore, ServerIdentity, StoreStats } from '../../core/ports/record-store.js';

interface UserState {
  seq: number;
  collections: Map<string, Collection & { order: number }>;
  items: Map<string, StoredItem>; // key: collection \0 id
  revisions: Revision[];
  /** The changeId that wrote each item row (key as `items`), and each kept revision object. */
  itemChangeIds: Map<string, string>;
  revisionChangeIds: WeakMap<Revision, string>;
  blobs: Set<string>;
}

const key = (collection: string, id: string) => `${collection}\u0000${id}`;
const copy = <T>(v: T): T => structuredClone(v);

/** Keeps everything in process memory; nothing survives a restart. */
export class MemoryRecordStore implements RecordStore {
  readonly description = 'memory';
  private readonly server: ServerIdentity = { id: randomUUID(), epoch: 1, createdAt: new Date().toISOString() };
  private readonly users = new Map<string, User>();
  private readonly state = new Map<string, UserState>();
  private readonly tokens = new Map<string, DeviceToken>();
  private order = 0;

  async identity(): Promise<ServerIdentity> {
    return { ...this.server };
  }

  async createUser(user: User, collections: NewCollection[]): Promise<User> {
    for (const u of this.users.values()) {
      if (u.name === user.name) throw new KeepsakeError('user_exists', `a user named "${user.name}" already exists`);
    }
    this.users.set(user.id, copy(user));
    this.state.set(user.id, { seq: 0, collections: new Map(), items: new Map(), revisions: [], itemChangeIds: new Map(), revisionChangeIds: new WeakMap(), blobs: new Set() });
    for (const c of collections) await this.createCollection(user.id, c, user.createdAt);
    return copy(user);
  }

  async getUser(id: string): Promise<User | null> {
    const u = this.users.get(id);
    return u ? copy(u) : null;
  }

  async findUserByName(name: string): Promise<User | null> {
    for (const u of this.users.values()) if (u.name === name) return copy(u);
    return null;
  }

  async listUsers(): Promise<User[]> {
    return [...this.users.values()].map(copy).sort((a, b) => a.name.localeCompare(b.name));
  }

  async updateUser(id: string, patch: Partial<Pick<User, 'passwordHash' | 'admin' | 'deletedAt'>>): Promise<User> {
    const u = this.users.get(id);
    if (!u) throw new KeepsakeError('user_not_found', `no user with id ${id}`);
    Object.assign(u, patch);
    return copy(u);
  }

  async purgeDeletedUser(id: string, deletedBefore: string): Promise<boolean> {
    const u = this.users.get(id);
    if (!u || u.deletedAt === null || !(u.deletedAt < deletedBefore)) return false;
    this.users.delete(id);
    this.state.delete(id);
    for (const [tokenId, t] of this.tokens) if (t.userId === id) this.tokens.delete(tokenId);
    for (const k of this.davProps.keys()) if (k.startsWith(`${id}\u0000`)) this.davProps.delete(k);
    return true;
  }

  async createToken(token: DeviceToken): Promise<void> {
    this.tokens.set(token.id, copy(token));
  }

  async findTokenByHash(tokenHash: string): Promise<DeviceToken | null> {
    for (const t of this.tokens.values()) if (t.tokenHash === tokenHash) return copy(t);
    return null;
  }

  async listTokens(userId: string): Promise<DeviceToken[]> {
    return [...this.tokens.values()].filter((t) => t.userId === userId).map(copy);
  }

  async deleteToken(userId: string, tokenId: string): Promise<boolean> {
    const t = this.tokens.get(tokenId);
    if (!t || t.userId !== userId) return false;
    return this.tokens.delete(tokenId);
  }

  async touchToken(tokenId: string, at: string): Promise<void> {
    const t = this.tokens.get(tokenId);
    if (t) t.lastUsedAt = at;
  }

  private userState(userId: string): UserState {
    const s = this.state.get(userId);
    if (!s) throw new KeepsakeError('user_not_found', `no user with id ${userId}`);
    return s;
  }

  async createCollection(userId: string, c: NewCollection, now: string): Promise<Collection> {
    const s = this.userState(userId);
    if (s.collections.has(c.id)) throw new KeepsakeError('collection_exists', `collection "${c.id}" already exists`);
    const col = { ...c, count: 0, digest: EMPTY_DIGEST, createdAt: now, lastChangeAt: null, deletedAt: null, order: this.order++ };
    s.collections.set(c.id, col);
    return strip(col);
  }

  async getCollection(userId: string, id: string): Promise<Collection | null> {
    const c = this.state.get(userId)?.collections.get(id);
    return c ? strip(c) : null;
  }

  async listCollections(userId: string, options: { includeDeleted?: boolean } = {}): Promise<Collection[]> {
    const s = this.state.get(userId);
    if (!s) return [];
    return [...s.collections.values()]
      .filter((c) => options.includeDeleted || c.deletedAt === null)
      .sort((a, b) => a.order - b.order)
      .map(strip);
  }

  async updateCollection(userId: string, id: string, patch: { name?: string; deletedAt?: string | null }): Promise<Collection> {
    const c = this.state.get(userId)?.collections.get(id);
    if (!c) throw new KeepsakeError('collection_not_found', `no collection "${id}"`);
    if (patch.name !== undefined) c.name = patch.name;
    if (patch.deletedAt !== undefined) c.deletedAt = patch.deletedAt;
    return strip(c);
  }

  async applyChanges(userId: string, changes: PreparedChange[], now: string): Promise<ChangeOutcome[]> {
    const s = this.userState(userId);
    const out: ChangeOutcome[] = [];
    for (const change of changes) {
      const k = key(change.collection, change.id);
      const current = s.items.get(k) ?? null;
      const currentChangeId = s.itemChangeIds.get(k) ?? null;
      const isRetry = (r: Revision) => r.collection === change.collection && r.id === change.id && s.revisionChangeIds.get(r) === change.changeId;
      if (current && (currentChangeId === change.changeId || s.revisions.some(isRetry))) {
        out.push({ status: 'duplicate', item: current ? copy(current) : null });
        continue;
      }
      const col = s.collections.get(change.collection);
      if (!col) throw new KeepsakeError('collection_not_found', `no collection "${change.collection}"`);
      const plan = planChange(current, change, now, () => ++s.seq);
      if (plan.item) {
        s.items.set(k, copy(plan.item));
        s.itemChangeIds.set(k, change.changeId);
      }
      if (plan.revision) {
        const kept = copy(plan.revision);
        const id = revisionChangeId(plan.revision, change, currentChangeId);
        if (id !== null) s.revisionChangeIds.set(kept, id);
        s.revisions.push(kept);
      }
      if (plan.item || plan.revision) col.lastChangeAt = now;
      col.count += plan.countDelta;
      col.digest = plan.nextDigest(col.digest);
      out.push(copy(plan.outcome));
    }
    return out;
  }

  async getItem(userId: string, collection: string, id: string): Promise<StoredItem | null> {
    const it = this.state.get(userId)?.items.get(key(collection, id));
    return it ? copy(it) : null;
  }

  async listChanges(userId: string, afterSeq: number, limit: number): Promise<StoredItem[]> {
    const s = this.state.get(userId);
    if (!s) return [];
    return [...s.items.values()]
      .filter((i) => i.version > afterSeq)
      .sort((a, b) => a.version - b.version)
      .slice(0, limit)
      .map(copy);
  }

  async listItems(
    userId: string,
    collection: string,
    options: { afterId?: string; limit: number; includeDeleted?: boolean },
  ): Promise<StoredItem[]> {
    const s = this.state.get(userId);
    if (!s) return [];
    return [...s.items.values()]
      .filter((i) => i.collection === collection && (options.includeDeleted || !i.deleted))
      .filter((i) => options.afterId === undefined || i.id > options.afterId)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, options.limit)
      .map(copy);
  }

  async lastSeq(userId: string): Promise<number> {
    return this.state.get(userId)?.seq ?? 0;
  }

  async listRevisions(userId: string, collection: string, id: string): Promise<Revision[]> {
    const s = this.state.get(userId);
    if (!s) return [];
    return s.revisions
      .filter((r) => r.collection === collection && r.id === id)
      .sort((a, b) => b.version - a.version)
      .map(copy);
  }

  async getRevision(userId: string, collection: string, id: string, version: number): Promise<Revision | null> {
    const r = this.state.get(userId)?.revisions.find((r) => r.collection === collection && r.id === id && r.version === version);
    return r ? copy(r) : null;
  }

  async listTrash(userId: string, limit: number): Promise<Revision[]> {
    const s = this.state.get(userId);
    if (!s) return [];
    const out: Revision[] = [];
    for (const t of [...s.items.values()].filter((i) => i.deleted).sort((a, b) => b.version - a.version)) {
      const kept = s.revisions
        .filter((r) => r.collection === t.collection && r.id === t.id && r.reason === 'deleted')
        .sort((a, b) => b.version - a.version)[0];
      if (kept) out.push(copy(kept));
      if (out.length >= limit) break;
    }
    return out;
  }

  async pruneRevisions(before: string): Promise<number> {
    let n = 0;
    for (const s of this.state.values()) {
      const keep = s.revisions.filter((r) => r.keptAt >= before);
      n += s.revisions.length - keep.length;
      s.revisions = keep;
    }
    return n;
  }

  async addBlobRef(userId: string, hash: string): Promise<void> {
    this.userState(userId).blobs.add(hash);
  }

  async hasBlobRef(userId: string, hash: string): Promise<boolean> {
    return this.state.get(userId)?.blobs.has(hash) ?? false;
  }

  async referencedBlobs(hashes: readonly string[]): Promise<Set<string>> {
    return new Set(hashes.filter((h) => [...this.state.values()].some((s) => s.blobs.has(h))));
  }

  // DAV properties (issue 6), keyed user \0 collection \0 resource.
  private readonly davProps = new Map<string, Record<string, string>>();

  async getDavProperties(userId: string, collection: string, resource: string): Promise<Record<string, string>> {
    return copy(this.davProps.get(`${userId}\u0000${collection}\u0000${resource}`) ?? {});
  }

  async listDavProperties(userId: string, collection: string): Promise<Map<string, Record<string, string>>> {
    const prefix = `${userId}\u0000${collection}\u0000`;
    const out = new Map<string, Record<string, string>>();
    for (const [k, v] of this.davProps) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), copy(v));
    return out;
  }

  async setDavProperties(userId: string, collection: string, resource: string, patch: Record<string, string | null>): Promise<void> {
    const k = `${userId}\u0000${collection}\u0000${resource}`;
    const props = { ...(this.davProps.get(k) ?? {}) };
    for (const [name, value] of Object.entries(patch)) {
      if (value === null) delete props[name];
      else props[name] = value;
    }
    if (Object.keys(props).length === 0) this.davProps.delete(k);
    else this.davProps.set(k, props);
  }

  /** The user's DAV property rows, sorted as the SQL stores sort them (by code unit). */
  private davRowsOf(userId: string): DavPropertyRow[] {
    const prefix = `${userId}\u0000`;
    const rows: DavPropertyRow[] = [];
    for (const [k, props] of this.davProps) {
      if (!k.startsWith(prefix)) continue;
      const [collection, resource] = k.slice(prefix.length).split('\u0000');
      rows.push({ collection, resource, props });
    }
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return rows.sort((a, b) => cmp(a.collection, b.collection) || cmp(a.resource, b.resource));
  }

  async listUserSeqs(): Promise<Array<{ userId: string; seq: number }>> {
    return [...this.state.entries()].map(([userId, s]) => ({ userId, seq: s.seq }));
  }

  async readBackupBatch(userId: string, afterSeq: number, limit: number): Promise<BackupBatch | null> {
    const user = this.users.get(userId);
    const s = this.state.get(userId);
    if (!user || !s) return null;
    const byVersion = (a: LogRecord, b: LogRecord) => a.version - b.version;
    const items = [...s.items.values()].filter((i) => i.version > afterSeq).map((i): LogRecord => ({ type: 'item', ...i }));
    const revisions = s.revisions.filter((r) => r.version > afterSeq).map((r): LogRecord => ({ type: 'revision', ...r }));
    return copy({
      user,
      tokens: [...this.tokens.values()].filter((t) => t.userId === userId),
      collections: [...s.collections.values()].sort((a, b) => a.order - b.order).map(strip),
      blobRefs: [...s.blobs].sort(),
      davProperties: this.davRowsOf(userId),
      seq: s.seq,
      ...mergeBackupRecords(items.sort(byVersion).slice(0, limit), revisions.sort(byVersion).slice(0, limit), limit, s.seq),
    });
  }

  async restoreAccount(a: RestoredAccount): Promise<void> {
    if (!this.users.has(a.user.id)) {
      this.users.set(a.user.id, copy(a.user));
      this.state.set(a.user.id, { seq: 0, collections: new Map(), items: new Map(), revisions: [], itemChangeIds: new Map(), revisionChangeIds: new WeakMap(), blobs: new Set() });
    }
    const s = this.userState(a.user.id);
    for (const t of a.tokens) if (!this.tokens.has(t.id)) this.tokens.set(t.id, copy(t));
    for (const c of a.collections) {
      if (!s.collections.has(c.id)) {
        s.collections.set(c.id, { ...c, count: 0, digest: EMPTY_DIGEST, lastChangeAt: null, order: this.order++ });
      }
    }
    for (const b of a.blobRefs) s.blobs.add(b);
    for (const d of a.davProperties ?? []) {
      const k = `${a.user.id}\u0000${d.collection}\u0000${d.resource}`;
      if (!this.davProps.has(k)) this.davProps.set(k, copy(d.props));
    }
    s.seq = Math.max(s.seq, a.seq);
  }

  async restoreItems(userId: string, entries: RestoredItem[], now: string): Promise<RestoreItemsResult> {
    const s = this.userState(userId);
    const result: RestoreItemsResult = { inserted: 0, replaced: 0, keptNewer: 0, unchanged: 0 };
    for (const e of entries) {
      const col = s.collections.get(e.item.collection);
      if (!col) throw new KeepsakeError('collection_not_found', `no collection "${e.item.collection}"`);
      const k = key(e.item.collection, e.item.id);
      const hasLiveRevision = (hash: string) => s.revisions.some((x) => x.collection === e.item.collection && x.id === e.item.id && x.hash === hash && !x.deleted);
      const plan = planRestoreItem(s.items.get(k) ?? null, e, now, () => ++s.seq, hasLiveRevision);
      if (plan.item) s.items.set(k, copy(plan.item));
      for (const r of plan.revisions) {
        if (!s.revisions.some((x) => x.collection === r.collection && x.id === r.id && x.version === r.version)) s.revisions.push(copy(r));
      }
      col.count += plan.countDelta;
      col.digest = plan.nextDigest(col.digest);
      if (plan.item && (col.lastChangeAt === null || plan.item.modified > col.lastChangeAt)) col.lastChangeAt = plan.item.modified;
      result[plan.outcome]++;
    }
    return result;
  }

  async bumpEpoch(adopt?: AdoptedIdentity): Promise<ServerIdentity> {
    if (adopt) {
      this.server.id = adopt.id;
      this.server.epoch = Math.max(this.server.epoch, adopt.aboveEpoch);
    }
    this.server.epoch++;
    return { ...this.server };
  }

  async stats(): Promise<StoreStats> {
    let liveItems = 0;
    let bytes = 0;
    for (const s of this.state.values()) {
      for (const i of s.items.values()) {
        if (!i.deleted) liveItems++;
        bytes += i.content?.length ?? 0;
      }
    }
    return { users: this.users.size, liveItems, bytes };
  }

  /** Nothing here is ever more durable than it is now. */
  async settled(): Promise<void> {}

  async close(): Promise<void> {}
}

function strip(c: Collection & { order: number }): Collection {
  const { order: _order, ...rest } = c;
  return copy(rest);
}
