// Push: send pending local changes (at most one per item per request, in edit order) and fold
// the per-change results into the replica. Retrying a request is safe: the server answers a
// changeId it already applied with `duplicate`.
import type { PhotoContent, PushChange, PushResult, ServerIdentity, WireError, WireItem } from '../protocol/sync-protocol.js';
import { SyncError } from './http-transport.js';
import { contentThenDelete, pendingMutation } from './local-edits.js';
import { itemKey, type ConflictCopy, type LocalItem, type PendingChange, type ReplicaMutation } from './replica-store.js';
import { nextHistory, sameServer } from './replica-state.js';
import { blobKey, type SyncContext } from './sync-context.js';

export interface PushOutcome {
  pushed: number;
  conflicts: number;
  rejected: number;
  /** Identity the server answered with (null if nothing was sent). */
  server: ServerIdentity | null;
  /** Set when the server's mass-deletion guard refused a batch. */
  paused: { collection: string; deletes: number; live: number } | null;
}

function isPhoto(c: unknown): c is PhotoContent {
  return typeof c === 'object' && c !== null && typeof (c as PhotoContent).blob === 'string' && 'size' in c;
}

/** The first pending change of each item, in edit order: later ones wait for its result. */
function sendable(pending: PendingChange[], limit: number): PendingChange[] {
  const seen = new Set<string>();
  const out: PendingChange[] = [];
  for (const p of pending) {
    const k = itemKey(p.collection, p.id);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(p);
    if (out.length >= limit) break;
  }
  return out;
}

function baseOf(ctx: SyncContext, p: PendingChange): number | null {
  if (p.keepAsRevision) return 0; // stale on purpose: never replaces the current version
  if (!p.chained) return p.baseVersion;
  const v = ctx.state.item(p.collection, p.id)?.version ?? 0;
  return v > 0 ? v : null;
}

async function ensureBlob(ctx: SyncContext, server: ServerIdentity | null, hash: string): Promise<void> {
  const key = blobKey(server, hash);
  if (ctx.uploadedBlobs.has(key)) return;
  const bytes = await ctx.store.getBlob(hash);
  if (!bytes) return; // the server may still have it; if not, the push is rejected with blob_missing
  await ctx.transport.putBlob(hash, bytes);
  ctx.uploadedBlobs.add(key);
}

/** Item after the server took the change as current (`applied`, or `duplicate` of the current). */
function acknowledgedItem(item: LocalItem, p: PendingChange, w: WireItem, server: ServerIdentity): LocalItem {
  return { ...item, version: w.version, syncedHash: p.deleted ? w.hash : p.hash, serverId: server.id, epoch: server.epoch };
}

/** Item replaced by the server's version (with content); the local one becomes `history`. */
export function adoptServerItem(item: LocalItem | undefined, w: WireItem, server: ServerIdentity): LocalItem {
  return {
    collection: w.collection,
    id: w.id,
    ...(w.deleted || w.content === undefined ? {} : { content: w.content }),
    hash: w.hash,
    deleted: w.deleted,
    version: w.version,
    syncedHash: w.hash,
    serverId: server.id,
    epoch: server.epoch,
    history: nextHistory(item, w.hash),
  };
}

export async function pushPending(ctx: SyncContext, options: { confirmMassDelete?: boolean } = {}): Promise<PushOutcome> {
  const out: PushOutcome = { pushed: 0, conflicts: 0, rejected: 0, server: null, paused: null };
  const retries = new Map<string, number>();
  const total = ctx.state.pendingCount;
  for (;;) {
    const batch = sendable(ctx.state.pending(), ctx.pushBatch).filter((p) => (retries.get(p.changeId) ?? 0) < 3);
    if (batch.length === 0) break;
    for (const p of batch) if (!p.deleted && isPhoto(p.content)) await ensureBlob(ctx, ctx.state.meta.server, p.content.blob);
    const changes: PushChange[] = batch.map((p) => ({
      changeId: p.changeId,
      collection: p.collection,
      id: p.id,
      baseVersion: baseOf(ctx, p),
      ...(p.deleted ? { deleted: true } : { content: p.content }),
    }));
    let res;
    try {
      res = await ctx.transport.push({ changes, ...(options.confirmMassDelete ? { confirmMassDelete: true } : {}) });
    } catch (e) {
      if (e instanceof SyncError && e.code === 'mass_delete_guard') {
        const d = (e.details ?? {}) as { collection?: string; deletes?: number; live?: number };
        out.paused = { collection: String(d.collection ?? ''), deletes: Number(d.deletes ?? 0), live: Number(d.live ?? 0) };
        ctx.events.emit('massDeletePaused', { ...out.paused, direction: 'push' });
        return out;
      }
      throw e;
    }
    out.server = res.server;
    const server = res.server;
    // Rejections that can be fixed here and retried: a blob or a collection the server lacks.
    const retry = new Set<string>();
    const revert = new Map<string, WireItem | null>();
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const r = res.results[i];
      if (r.status !== 'rejected') continue;
      const code = r.error.code;
      const tries = (retries.get(p.changeId) ?? 0) + 1;
      retries.set(p.changeId, tries);
      if (code === 'blob_missing' && isPhoto(p.content) && tries < 3 && (await ctx.store.getBlob(p.content.blob))) {
        ctx.uploadedBlobs.delete(blobKey(server, p.content.blob));
        await ensureBlob(ctx, server, p.content.blob);
        retry.add(p.changeId);
      } else if (code === 'collection_not_found' && ctx.state.meta.collections[p.collection] && tries < 3) {
        const c = ctx.state.meta.collections[p.collection];
        try {
          await ctx.transport.createCollection({ id: p.collection, kind: c.kind, name: c.name });
        } catch (e) {
          if (!(e instanceof SyncError && e.code === 'collection_exists')) throw e;
        }
        retry.add(p.changeId);
      } else if (!(code === 'item_not_found' && p.deleted)) {
        revert.set(p.changeId, await ctx.transport.item(p.collection, p.id));
      }
    }
    const outcome = await ctx.state.mutate(() => applyResults(ctx, batch, res.results, server, retry, revert));
    for (const notify of outcome.after) notify();
    out.pushed += outcome.acked;
    out.conflicts += outcome.conflicts;
    out.rejected += outcome.rejected;
    ctx.events.emit('progress', { phase: 'push', done: out.pushed, total });
    if (outcome.acked + outcome.rejected + outcome.resent === 0 && retry.size === 0) break;
  }
  return out;
}

function applyResults(
  ctx: SyncContext,
  batch: PendingChange[],
  results: PushResult[],
  server: ServerIdentity,
  retry: Set<string>,
  revert: Map<string, WireItem | null>,
): { mutations: ReplicaMutation[]; result: { acked: number; conflicts: number; rejected: number; resent: number; after: Array<() => void> } } {
  const mutations: ReplicaMutation[] = [];
  const counts = { acked: 0, conflicts: 0, rejected: 0, resent: 0 };
  let queued = 0; // uploads queued here, numbered from the device's next sequence
  const after: Array<() => void> = [];
  for (let i = 0; i < batch.length; i++) {
    const p = batch[i];
    const r = results[i];
    if (!r || r.changeId !== p.changeId || retry.has(p.changeId)) continue;
    const item = ctx.state.item(p.collection, p.id);
    if (!item) continue;
    if (p.keepAsRevision && r.status !== 'rejected') {
      // A re-sent conflict copy: the server keeps it as a revision (or, if it had nothing, as current).
      counts.acked++;
      mutations.push({ op: 'dropPending', changeId: p.changeId });
      if (r.status === 'applied' && item.deleted) {
        mutations.push({ op: 'putItem', item: { ...item, content: p.content, hash: p.hash, deleted: false, version: r.item.version, syncedHash: r.item.hash, serverId: server.id, epoch: server.epoch, history: nextHistory(item, p.hash) } });
      } else if (r.status === 'applied' && item.version === 0) {
        // The server had nothing, so the copy became current there; the device's live version
        // (not on this server yet) goes over it, and the copy stays a revision. Never the reverse.
        const onServer = { ...item, version: r.item.version, syncedHash: r.item.hash, serverId: server.id, epoch: server.epoch };
        mutations.push({ op: 'putItem', item: onServer });
        const edits = ctx.state.pendingFor(p.collection, p.id).some((q) => !q.keepAsRevision);
        if (!edits) mutations.push(pendingMutation(ctx.state, onServer, false, onServer, false, queued++));
      }
      const ack = { changeId: p.changeId, collection: p.collection, id: p.id, hash: p.hash, deleted: false, status: r.status, version: null, ...(r.status === 'conflict' ? { revision: r.revision } : {}), server };
      after.push(() => ctx.events.emit('acknowledged', ack));
    } else if (r.status === 'applied' || r.status === 'duplicate') {
      counts.acked++;
      mutations.push({ op: 'dropPending', changeId: p.changeId });
      const w = r.item;
      const later = ctx.state.pendingFor(p.collection, p.id).length > 1;
      if (w && (p.deleted ? w.deleted : w.hash === p.hash)) mutations.push({ op: 'putItem', item: acknowledgedItem(item, p, w, server) });
      else if (w && !later && w.content !== undefined) mutations.push({ op: 'putItem', item: adoptServerItem(item, w, server) });
      const ack = { changeId: p.changeId, collection: p.collection, id: p.id, hash: p.hash, deleted: p.deleted, status: r.status, version: w && w.hash === p.hash ? w.version : null, server };
      after.push(() => ctx.events.emit('acknowledged', ack));
    } else if (r.status === 'conflict') {
      counts.acked++;
      counts.conflicts++;
      // The server kept our change as a revision; we keep the device's latest content as a copy
      // the user can pick, and take the server's current version. Later edits of this item are
      // folded into the copy (they were based on the losing version).
      const queued = ctx.state.pendingFor(p.collection, p.id);
      for (const q of queued) mutations.push({ op: 'dropPending', changeId: q.changeId });
      // The copy keeps the device's latest content: the item's, or — if the device deleted it
      // after editing — the last edit it queued (the server kept that edit only as a revision,
      // which a later restore of the server could lose).
      const lastEdit = item.deleted ? [...queued].reverse().find((q) => !q.deleted && q.content !== undefined) : undefined;
      const kept = lastEdit ? { deleted: false, content: lastEdit.content, hash: lastEdit.hash } : { deleted: item.deleted, content: item.deleted ? undefined : item.content, hash: item.hash };
      const copy: ConflictCopy = {
        copyId: ctx.newId(),
        collection: p.collection,
        id: p.id,
        deleted: kept.deleted,
        ...(kept.content !== undefined ? { content: kept.content } : {}),
        hash: kept.hash,
        reason: 'conflict',
        serverVersion: r.item.version,
        serverRevision: r.revision,
        at: ctx.now(),
      };
      if (!copy.deleted) mutations.push({ op: 'putConflict', copy });
      mutations.push({ op: 'putItem', item: adoptServerItem(item, r.item, server) });
      const ack = { changeId: p.changeId, collection: p.collection, id: p.id, hash: p.hash, deleted: p.deleted, status: 'conflict' as const, version: null, revision: r.revision, server };
      after.push(() => {
        ctx.events.emit('acknowledged', ack);
        ctx.events.emit('conflict', copy);
      });
    } else {
      const known = ctx.state.meta.server;
      if (r.error.code === 'item_not_found' && p.deleted && known && !sameServer(server, known)) {
        // A server that is not the one the device knew lacks the item: keep the delete for
        // reconcile, which first gives it back the content so the delete lands in its trash.
        continue;
      }
      const waiting = ctx.state.pendingFor(p.collection, p.id);
      if (r.error.code === 'item_not_found' && p.deleted && p.deletedContent !== undefined && p.baseHash !== null && waiting.length === 1) {
        // The device deleted a version it had synced, and this server lacks the item: it lost it
        // (restored to an older state, perhaps under an epoch the device has seen before). Give
        // it the content first, then the delete, so the deleted version lands in its trash, as
        // reconcile does: dropping the delete here would leave that version on no server at all.
        for (const change of contentThenDelete(p, ctx.state.meta.nextSeq + queued, ctx.newId())) mutations.push({ op: 'putPending', change });
        queued += 2;
        mutations.push({ op: 'putItem', item: { ...item, version: 0, syncedHash: null, serverId: server.id, epoch: server.epoch } });
        counts.resent++;
        continue;
      }
      counts.rejected++;
      for (const q of waiting) mutations.push({ op: 'dropPending', changeId: q.changeId });
      if (r.error.code === 'item_not_found' && p.deleted) {
        // Deleting what the server never had: the device's tombstone is the truth already.
        mutations.push({ op: 'putItem', item: { ...item, version: 0, syncedHash: null, serverId: server.id, epoch: server.epoch } });
        continue;
      }
      const copy = rejectedCopy(ctx, item, r.error);
      mutations.push({ op: 'putConflict', copy });
      const current = revert.get(p.changeId) ?? null;
      mutations.push({
        op: 'putItem',
        item: current ? adoptServerItem(item, current, server) : { ...item, deleted: true, content: undefined, version: 0, syncedHash: null, history: nextHistory(item, item.hash) },
      });
      const error: WireError = r.error;
      after.push(() => ctx.events.emit('rejected', { change: p, error }));
    }
  }
  if (queued > 0) mutations.push({ op: 'setMeta', meta: { ...ctx.state.meta, nextSeq: ctx.state.meta.nextSeq + queued } });
  return { mutations, result: { ...counts, after } };
}

function rejectedCopy(ctx: SyncContext, item: LocalItem, error: WireError): ConflictCopy {
  return {
    copyId: ctx.newId(),
    collection: item.collection,
    id: item.id,
    deleted: item.deleted,
    ...(item.content !== undefined ? { content: item.content } : {}),
    hash: item.hash,
    reason: 'rejected',
    serverVersion: null,
    serverRevision: null,
    error,
    at: ctx.now(),
  };
}
