// Reconcile mode (DESIGN.md invariant 6): the server is not the data set the device knew (new id,
// new epoch, expired cursor, or a digest that disagrees). Compare everything by id and hash,
// queue uploads for what the server lacks or holds in an older version, and delete nothing on
// the device unless the server holds a tombstone newer than what the device knew.
import type { ServerIdentity, WireItem } from '../protocol/sync-protocol.js';
import type { HealReport, ReconcileReason } from './events.js';
import { SyncError } from './http-transport.js';
import { contentThenDelete } from './local-edits.js';
import { fetchChanges, fetchPhotoBlobs, guardDeletions } from './pull.js';
import { adoptServerItem } from './push.js';
import { type ConflictCopy, itemKey, type LocalItem, type PendingChange, type ReplicaMutation } from './replica-store.js';
import type { SyncContext } from './sync-context.js';

/**
 * What to do with one item, given the server's copy `s` and the device's `l` (no pending edit).
 * `knownToServer`: the server's revision history holds the device's version (so the server's
 * different version is newer, not a rival).
 */
export type ItemVerdict = 'same' | 'adopt' | 'upload' | 'upload-over' | 'rival' | 'delete-local' | 'redelete' | 'none';

/** The reconcile rule for an item without pending edits. Pure, so it is property-tested alone. */
export function reconcileVerdict(l: LocalItem | undefined, s: WireItem | undefined, knownToServer: boolean): ItemVerdict {
  if (!l) return s && !s.deleted ? 'adopt' : s ? 'adopt' : 'none';
  if (!s) return l.deleted ? 'none' : 'upload';
  if (!l.deleted && !s.deleted) {
    if (l.hash === s.hash) return 'same';
    if (l.history.includes(s.hash)) return 'upload-over'; // the server holds an older version
    return knownToServer ? 'adopt' : 'rival';
  }
  if (!l.deleted && s.deleted) {
    // The tombstone deleted exactly the device's version, or a later one the server knew: newer.
    if (s.hash === l.hash) return 'delete-local';
    if (l.history.includes(s.hash)) return 'upload-over'; // it deleted an older version; ours is newer
    return knownToServer ? 'delete-local' : 'upload-over';
  }
  if (l.deleted && !s.deleted) {
    // The server holds the content the device deleted (or an older one): the deletion was lost.
    if (s.hash === l.hash || l.history.includes(s.hash)) return 'redelete';
    return 'adopt'; // an edit the device never saw wins over its delete
  }
  return 'same';
}

function needsRevisions(l: LocalItem | undefined, s: WireItem | undefined, hasPending: boolean): boolean {
  if (!l || !s || hasPending || l.deleted) return false;
  return l.hash !== s.hash && !l.history.includes(s.hash);
}

export async function reconcile(ctx: SyncContext, reason: ReconcileReason): Promise<HealReport> {
  ctx.events.emit('progress', { phase: 'reconcile', done: 0, total: null });
  const listing = await fetchChanges(ctx, null, null);
  const server = listing.server!;
  const serverItems = new Map(listing.changes.map((w) => [itemKey(w.collection, w.id), w]));

  // Collections the device knows but the server lost come back first (same id, kind and name).
  const collections = { ...ctx.state.meta.collections };
  const onServer = await ctx.transport.collections();
  const serverIds = new Set(onServer.map((c) => c.id));
  for (const [id, c] of Object.entries(collections)) {
    if (serverIds.has(id)) continue;
    try {
      await ctx.transport.createCollection({ id, kind: c.kind, name: c.name });
    } catch (e) {
      if (!(e instanceof SyncError && e.code === 'collection_exists')) throw e;
    }
  }
  for (const c of onServer) collections[c.id] = { kind: c.kind, name: c.name };

  // Where the server holds a version the device has never seen, ask whether the device's
  // version is in the server's history (then the server's is newer) or not (then both are kept).
  const known = new Set<string>();
  for (const l of [...ctx.state.items()]) {
    const key = itemKey(l.collection, l.id);
    const s = serverItems.get(key);
    if (!needsRevisions(l, s, ctx.state.pendingFor(l.collection, l.id).some((p) => !p.keepAsRevision))) continue;
    const revs = await ctx.transport.revisions(l.collection, l.id);
    if (revs.some((r) => r.hash === l.hash && !r.deleted)) known.add(key);
  }
  // Conflict copies the server no longer holds (its revisions were lost with its data) go back
  // as conflict revisions, so the server again keeps every version a device knows.
  const lostCopies: ConflictCopy[] = [];
  for (const copy of ctx.state.conflicts()) {
    if (copy.reason !== 'conflict' || copy.deleted || copy.content === undefined) continue;
    const s = serverItems.get(itemKey(copy.collection, copy.id));
    if (s && !s.deleted && s.hash === copy.hash) continue;
    const revs = s ? await ctx.transport.revisions(copy.collection, copy.id) : [];
    if (!revs.some((r) => r.hash === copy.hash)) lostCopies.push(copy);
  }
  await fetchPhotoBlobs(ctx, listing.changes);

  const report = await ctx.state.mutate(() => plan(ctx, reason, server, serverItems, known, listing.cursor, collections, lostCopies));
  ctx.events.emit('healed', report);
  return report;
}

function plan(
  ctx: SyncContext,
  reason: ReconcileReason,
  server: ServerIdentity,
  serverItems: Map<string, WireItem>,
  known: Set<string>,
  cursor: string | null,
  collections: Record<string, { kind: any; name: string }>,
  lostCopies: ConflictCopy[],
): { mutations: ReplicaMutation[]; result: HealReport } {
  const report: HealReport = { reason, server, uploaded: {}, redeleted: 0, conflicts: 0, deletedLocally: 0, adopted: 0, copiesResent: 0, healed: 0 };
  const mutations: ReplicaMutation[] = [];
  let seq = ctx.state.meta.nextSeq;
  const queue = (l: LocalItem, deleted: boolean, baseVersion: number | null, baseHash: string | null) => {
    const change: PendingChange = {
      changeId: ctx.newId(),
      seq: seq++,
      collection: l.collection,
      id: l.id,
      deleted,
      ...(deleted ? {} : { content: l.content }),
      hash: l.hash,
      baseVersion,
      baseHash,
      chained: false,
      createdAt: ctx.now(),
    };
    mutations.push({ op: 'putPending', change });
  };
  const synced = (l: LocalItem, s: WireItem | undefined): LocalItem => ({
    ...l,
    version: s?.version ?? 0,
    syncedHash: s?.hash ?? null,
    serverId: server.id,
    epoch: server.epoch,
  });

  const deletions: WireItem[] = [];
  const keys = new Set<string>([...serverItems.keys()]);
  for (const l of ctx.state.items()) keys.add(itemKey(l.collection, l.id));
  for (const key of keys) {
    const s = serverItems.get(key);
    const sep = key.indexOf('\u0000');
    const [collection, id] = [key.slice(0, sep), key.slice(sep + 1)];
    const l = ctx.state.item(collection, id);
    // Conflict copies still waiting to be re-sent go to the back of the queue (lostCopies below
    // queues again those this server lacks): the device's live version must reach the server
    // first, or a copy sent to a server without the item would become current in its place.
    const queued = ctx.state.pendingFor(collection, id);
    for (const p of queued) if (p.keepAsRevision) mutations.push({ op: 'dropPending', changeId: p.changeId });
    const pending = queued.filter((p) => !p.keepAsRevision);
    if (pending.length > 0 && l) {
      // Rebase the first waiting edit onto what the server holds now; a stale base becomes a
      // conflict on the server, which keeps both versions.
      const p0 = pending[0];
      if (!s && pending.length === 1 && p0.deleted && p0.deletedContent !== undefined) {
        // The device deleted an item this server does not have: give the server the deleted
        // content first, then the delete, so it lands in the trash (restorable) as it would have.
        for (const change of contentThenDelete(p0, seq, ctx.newId())) mutations.push({ op: 'putPending', change });
        seq += 2;
        mutations.push({ op: 'putItem', item: synced(l, s) });
        report.redeleted++;
        continue;
      }
      const baseHash = p0.chained ? l.syncedHash : p0.baseHash;
      const baseVersion = !s ? null : s.deleted || s.hash === baseHash ? s.version : 0;
      mutations.push({ op: 'putPending', change: { ...p0, chained: false, baseVersion, baseHash } });
      mutations.push({ op: 'putItem', item: synced(l, s) });
      continue;
    }
    const verdict = reconcileVerdict(l, s, known.has(key));
    switch (verdict) {
      case 'adopt':
        mutations.push({ op: 'putItem', item: adoptServerItem(l, s!, server) });
        if (!s!.deleted) report.adopted++;
        break;
      case 'same':
      case 'none':
        if (l) mutations.push({ op: 'putItem', item: synced(l, s) });
        break;
      case 'upload':
      case 'upload-over':
      case 'rival':
        mutations.push({ op: 'putItem', item: synced(l!, s) });
        // `rival`: base 0 is stale on purpose: the server keeps its version and stores ours as a
        // conflict revision; the push result then gives the device a conflict copy.
        queue(l!, false, verdict === 'rival' ? 0 : (s?.version ?? null), s?.hash ?? null);
        if (verdict === 'rival') report.conflicts++;
        else report.uploaded[collection] = (report.uploaded[collection] ?? 0) + 1;
        break;
      case 'redelete':
        mutations.push({ op: 'putItem', item: synced(l!, s) });
        queue(l!, true, s!.version, s!.hash);
        report.redeleted++;
        break;
      case 'delete-local':
        deletions.push(s!);
        break;
    }
  }
  const tripped = guardDeletions(ctx, deletions);
  const heldDeletes = { ...ctx.state.meta.heldDeletes };
  for (const s of deletions) {
    const l = ctx.state.item(s.collection, s.id)!;
    if (tripped.has(s.collection)) {
      heldDeletes[s.collection] = [...(heldDeletes[s.collection] ?? []).filter((h) => h.id !== s.id), s];
      mutations.push({ op: 'putItem', item: synced(l, undefined) });
    } else {
      mutations.push({ op: 'putItem', item: adoptServerItem(l, s, server) });
      report.deletedLocally++;
    }
  }
  for (const copy of lostCopies) {
    mutations.push({
      op: 'putPending',
      change: { changeId: ctx.newId(), seq: seq++, collection: copy.collection, id: copy.id, deleted: false, content: copy.content, hash: copy.hash, baseVersion: 0, baseHash: null, chained: false, keepAsRevision: true, createdAt: ctx.now() },
    });
    report.copiesResent++;
  }
  for (const [collection, t] of tripped) ctx.events.emit('massDeletePaused', { collection, ...t, direction: 'pull' });
  report.healed = Object.values(report.uploaded).reduce((a, b) => a + b, 0) + report.redeleted;
  mutations.push({
    op: 'setMeta',
    meta: { ...ctx.state.meta, server, cursor, agreedDigests: {}, collections, heldDeletes, nextSeq: seq },
  });
  return { mutations, result: report };
}
