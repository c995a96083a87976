// KeepsakeClient: a device's replica of one account — local edits, offline work, sync, conflict
// copies, and reconciliation when the server's data set changes. Runs on fetch and Web Crypto.
import type { ItemContent, Kind, PhotoContent, ServerIdentity } from '../protocol/sync-protocol.js';
import { ClientEmitter, type ClientEvents, type ClientState, type HealReport, type ReconcileReason } from './events.js';
import { bytesHash, collectionDigest, contentHash, EMPTY_DIGEST, type Sha256, webCryptoSha256 } from './hashing.js';
import { HttpTransport, type RetryPolicy, SyncError } from './http-transport.js';
import { pullChanges } from './pull.js';
import { confirmHeldDeletes, rejectHeldDeletes } from './held-deletes.js';
import { bumpSeq, pendingMutation, randomId } from './local-edits.js';
import { pushPending } from './push.js';
import { reconcile } from './reconcile.js';
import { nextHistory, ReplicaState, sameServer } from './replica-state.js';
import type { ConflictCopy, LocalItem, PendingChange, ReplicaStore } from './replica-store.js';
import { type MassDeleteGuard, ServerChanged, type SyncContext } from './sync-context.js';

export interface ClientOptions {
  serverUrl: string;
  /** Device token (`ks_…`) or a function returning the current one. */
  token: string | (() => string | Promise<string>);
  store: ReplicaStore;
  fetch?: typeof fetch;
  sha256?: Sha256;
  retry?: Partial<RetryPolicy>;
  /** Client-side mass-deletion guard (default: more than half of a collection of ≥ 20 items). */
  massDelete?: Partial<MassDeleteGuard>;
  /** Download photo bytes on pull (default true): a device that holds them can heal a server. */
  fetchBlobs?: boolean;
  /**
   * After a sync with nothing pending, compare collection digests with the server (default
   * true). A number: at most once per that many ms (a large fleet saves one request per sync).
   */
  verifyDigests?: boolean | number;
  /** Changes per push request (default 500). */
  pushBatch?: number;
}

export interface SyncReport {
  ok: boolean;
  state: ClientState;
  pushed: number;
  pulled: number;
  conflicts: number;
  rejected: number;
  /** Set when this sync reconciled with a changed server. */
  healed: HealReport | null;
  /** Collections whose deletions are held by a mass-deletion guard. */
  paused: Array<{ collection: string; deletes: number; live: number; direction: 'pull' | 'push' }>;
  error?: SyncError;
}

export class KeepsakeClient {
  private readonly events = new ClientEmitter();
  private readonly ctx: SyncContext;
  private running: Promise<SyncReport> | null = null;
  private current: ClientState = 'idle';
  private readonly verifyEveryMs: number | null;
  private lastVerified = -Infinity;
  private readonly digestCache = new Map<string, { stamp: number; digest: string }>();

  private constructor(
    private readonly state: ReplicaState,
    private readonly options: ClientOptions,
  ) {
    const v = options.verifyDigests ?? true;
    this.verifyEveryMs = v === false ? null : v === true ? 0 : v;
    this.ctx = {
      state,
      store: options.store,
      transport: new HttpTransport(options),
      events: this.events,
      sha256: options.sha256 ?? webCryptoSha256,
      guard: { share: 0.5, minItems: 20, ...options.massDelete },
      fetchBlobs: options.fetchBlobs ?? true,
      pushBatch: options.pushBatch ?? 500,
      uploadedBlobs: new Set(),
      newId: randomId,
      now: () => new Date().toISOString(),
    };
  }

  /** Opens a client on a replica store (loading what it holds). */
  static async open(options: ClientOptions): Promise<KeepsakeClient> {
    return new KeepsakeClient(new ReplicaState(options.store, await options.store.load()), options);
  }

  on<K extends keyof ClientEvents>(name: K, fn: (event: ClientEvents[K]) => void): () => void {
    return this.events.on(name, fn);
  }

  get syncState(): ClientState {
    return this.current;
  }

  /** The server data set this device last synced with. */
  get server(): ServerIdentity | null {
    return this.state.meta.server;
  }

  /** Replaces the device token (e.g. after the operator re-created the account on a new server). */
  setToken(token: string): void {
    this.ctx.transport.token = token;
  }

  // ---- reading -------------------------------------------------------------------------------

  get(collection: string, id: string): LocalItem | undefined {
    const it = this.state.item(collection, id);
    return it && !it.deleted ? it : undefined;
  }

  /** Live items, optionally of one collection. */
  list(collection?: string): LocalItem[] {
    return [...this.state.items()].filter((i) => !i.deleted && (collection === undefined || i.collection === collection));
  }

  /** Every item the device holds, tombstones included. */
  allItems(): LocalItem[] {
    return [...this.state.items()];
  }

  pending(): PendingChange[] {
    return this.state.pending();
  }

  conflicts(): ConflictCopy[] {
    return this.state.conflicts();
  }

  /** Deletions held back by the client-side mass-deletion guard, by collection. */
  heldDeletions(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.state.meta.heldDeletes).map(([c, l]) => [c, l.length]));
  }

  getBlob(hash: string): Promise<Uint8Array | null> {
    return this.options.store.getBlob(hash);
  }

  /** Digest of the device's live items per collection (same definition as the server's). */
  async digests(): Promise<Record<string, string>> {
    const by = new Map<string, Array<{ id: string; hash: string }>>();
    for (const it of this.state.items()) {
      if (it.deleted) continue;
      let l = by.get(it.collection);
      if (!l) by.set(it.collection, (l = []));
      l.push(it);
    }
    const out: Record<string, string> = {};
    for (const [c, items] of by) {
      const stamp = this.state.collectionStamp(c);
      const cached = this.digestCache.get(c);
      if (cached && cached.stamp === stamp) {
        out[c] = cached.digest;
        continue;
      }
      out[c] = await collectionDigest(items, this.ctx.sha256);
      this.digestCache.set(c, { stamp, digest: out[c] });
    }
    return out;
  }

  // ---- local edits (work offline; durable before they resolve) --------------------------------

  /** Creates or replaces an item. Resolves once the edit is durable on the device. */
  async put(collection: string, id: string, content: ItemContent): Promise<void> {
    const hash = await contentHash(content, this.ctx.sha256);
    await this.state.mutate(() => {
      const old = this.state.item(collection, id);
      if (old && !old.deleted && old.hash === hash) return [];
      const pending = this.state.pendingFor(collection, id);
      const item: LocalItem = {
        collection,
        id,
        content,
        hash,
        deleted: false,
        version: old?.version ?? 0,
        syncedHash: old?.syncedHash ?? null,
        serverId: old?.serverId ?? null,
        epoch: old?.epoch ?? 0,
        history: nextHistory(old, hash),
      };
      return [{ op: 'putItem', item }, pendingMutation(this.state, item, false, old, pending.length > 0), bumpSeq(this.state)];
    });
  }

  /** Deletes an item (a tombstone is kept and synced). Nothing happens if it does not exist. */
  async delete(collection: string, id: string): Promise<void> {
    await this.state.mutate(() => {
      const old = this.state.item(collection, id);
      if (!old || old.deleted) return [];
      const pending = this.state.pendingFor(collection, id);
      const item: LocalItem = { ...old, deleted: true, content: undefined };
      delete item.content;
      return [{ op: 'putItem', item }, pendingMutation(this.state, item, true, old, pending.length > 0), bumpSeq(this.state)];
    });
  }

  /** Stores photo bytes on the device and creates the photo item naming them. */
  async putPhoto(collection: string, id: string, bytes: Uint8Array, meta: { name: string; type: string; takenAt?: string }): Promise<PhotoContent> {
    const blob = await bytesHash(bytes, this.ctx.sha256);
    await this.options.store.putBlob(blob, bytes);
    const content: PhotoContent = { blob, name: meta.name, type: meta.type, size: bytes.length, ...(meta.takenAt ? { takenAt: meta.takenAt } : {}) };
    await this.put(collection, id, content);
    return content;
  }

  /** Declares a collection (synced to the server, and re-created there if the server loses it). */
  async addCollection(id: string, kind: Kind, name: string): Promise<void> {
    await this.state.mutate(() => [{ op: 'setMeta', meta: { ...this.state.meta, collections: { ...this.state.meta.collections, [id]: { kind, name } } } }]);
  }

  /** Settles a conflict copy: `local` makes it the current version (a new edit), `server` drops it. */
  async resolveConflict(copyId: string, keep: 'local' | 'server'): Promise<void> {
    const copy = this.state.conflict(copyId);
    if (!copy) return;
    if (keep === 'local') {
      if (copy.deleted) await this.delete(copy.collection, copy.id);
      else await this.put(copy.collection, copy.id, copy.content!);
    }
    await this.state.mutate(() => [{ op: 'dropConflict', copyId }]);
  }

  /** Applies the deletions the guard held back for `collection` (the user confirmed them). */
  confirmMassDelete(collection: string): Promise<number> {
    return confirmHeldDeletes(this.state, collection);
  }

  /** Refuses held deletions: the device's items are uploaded again (an edit wins over a delete). */
  rejectMassDelete(collection: string): Promise<number> {
    return rejectHeldDeletes(this.state, collection);
  }

  // ---- sync ---------------------------------------------------------------------------------

  private setState(state: ClientState, reason?: string): void {
    if (this.current === state && !reason) return;
    this.current = state;
    this.events.emit('state', { state, ...(reason ? { reason } : {}) });
  }

  /**
   * Pushes pending edits, pulls what changed, and reconciles when the server is not the data set
   * the device knew. Concurrent calls share one run. Never throws for network trouble: the
   * report says `offline` and the edits stay pending.
   */
  sync(options: { confirmMassDelete?: boolean; reconcile?: boolean } = {}): Promise<SyncReport> {
    if (!this.running) {
      this.running = this.run(options).finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  /** Forces reconcile mode now (e.g. the operator announced a restore). */
  reconcile(): Promise<SyncReport> {
    return this.sync({ reconcile: true });
  }

  private async run(options: { confirmMassDelete?: boolean; reconcile?: boolean }): Promise<SyncReport> {
    const report: SyncReport = { ok: true, state: 'idle', pushed: 0, pulled: 0, conflicts: 0, rejected: 0, healed: null, paused: [] };
    this.setState('syncing');
    try {
      // Items synced with some other server (edits made here are simply pending and pushed).
      const knownElsewhere = [...this.state.items()].some((i) => !i.deleted && i.serverId !== null);
      let reason: ReconcileReason | null = options.reconcile ? 'requested' : this.state.meta.server === null && knownElsewhere ? 'first_contact' : null;
      if (reason === null) {
        try {
          await this.pushAndPull(report, options);
        } catch (e) {
          if (!(e instanceof ServerChanged)) throw e;
          reason = e.reason;
        }
      }
      if (reason === null && this.verifyDue() && this.state.pendingCount === 0) {
        this.lastVerified = Date.now();
        const first = await this.digestsAgree();
        if (first.size > 0) {
          // Another device may have written between our pull and the listing: pull once more.
          // Only a disagreement on a collection the server did not change meanwhile means the
          // server lost something (or the device did); otherwise check again next sync.
          await this.pushAndPull(report, options).catch((e) => {
            if (e instanceof ServerChanged) reason = e.reason;
            else throw e;
          });
          if (reason === null && this.state.pendingCount === 0) {
            const second = await this.digestsAgree();
            if ([...second].some(([c, digest]) => first.get(c) === digest)) reason = 'digest_mismatch';
          }
        }
      }
      for (let attempt = 1; reason !== null; attempt++) {
        // The server may change again while we reconcile (a restore finishing): start over, a few times.
        if (attempt > 3) throw new SyncError('server_unstable', 'the server changed again during reconciliation; will retry', null);
        const previous = this.state.meta.server;
        this.setState('reconciling', reason);
        report.healed = await reconcile(this.ctx, reason);
        this.events.emit('serverChanged', { reason, previous, current: report.healed.server });
        this.setState('syncing');
        reason = null;
        try {
          await this.pushAndPull(report, options);
        } catch (e) {
          if (!(e instanceof ServerChanged)) throw e;
          reason = e.reason;
        }
      }
      if (report.healed && this.verifyEveryMs !== null && this.state.pendingCount === 0) await this.digestsAgree();
      const held = Object.entries(this.state.meta.heldDeletes);
      for (const [collection, list] of held) {
        if (!report.paused.some((p) => p.collection === collection)) report.paused.push({ collection, deletes: list.length, live: this.list(collection).length, direction: 'pull' });
      }
      report.state = report.paused.length ? 'paused' : 'idle';
    } catch (e) {
      if (!(e instanceof SyncError)) {
        this.setState('error', (e as Error).message);
        throw e;
      }
      report.ok = false;
      report.error = e;
      report.state = e.retryable ? 'offline' : 'error';
    }
    this.setState(report.state);
    return report;
  }

  private verifyDue(): boolean {
    return this.verifyEveryMs !== null && Date.now() - this.lastVerified >= this.verifyEveryMs;
  }

  private async pushAndPull(report: SyncReport, options: { confirmMassDelete?: boolean }): Promise<void> {
    const pushed = await pushPending(this.ctx, options);
    report.pushed += pushed.pushed;
    report.conflicts += pushed.conflicts;
    report.rejected += pushed.rejected;
    if (pushed.paused) report.paused.push({ ...pushed.paused, direction: 'push' });
    const known = this.state.meta.server;
    if (pushed.server && known && !sameServer(pushed.server, known)) {
      throw new ServerChanged(pushed.server.id !== known.id ? 'new_server' : 'new_epoch', pushed.server);
    }
    const pulled = await pullChanges(this.ctx);
    report.pulled += pulled.pulled;
    for (const h of pulled.held) {
      report.paused.push({ ...h, direction: 'pull' });
      this.events.emit('massDeletePaused', { ...h, direction: 'pull' });
    }
  }

  /**
   * Compares live-item digests with the server's and records the ones that agree. Returns the
   * server's digest of every collection that disagrees (empty: all agree).
   */
  private async digestsAgree(): Promise<Map<string, string>> {
    const server = await this.ctx.transport.collections();
    const local = await this.digests();
    const held = new Set(Object.keys(this.state.meta.heldDeletes));
    const mismatched = new Map<string, string>();
    const agreed: Record<string, string> = { ...this.state.meta.agreedDigests };
    const collections = { ...this.state.meta.collections };
    for (const c of server) {
      collections[c.id] = { kind: c.kind, name: c.name };
      if (held.has(c.id)) continue;
      const mine = local[c.id] ?? EMPTY_DIGEST;
      if (mine === c.digest) agreed[c.id] = c.digest;
      else mismatched.set(c.id, c.digest);
    }
    // Live items in a collection the server does not list at all.
    for (const c of Object.keys(local)) if (!server.some((s) => s.id === c)) mismatched.set(c, 'missing');
    await this.state.mutate(() => [{ op: 'setMeta', meta: { ...this.state.meta, collections, agreedDigests: agreed } }]);
    return mismatched;
  }

  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    await this.options.store.close();
  }
}

