// Pull: fetch every change since the cursor, check the server is still the data set the device
// knows, hold back mass deletions, download photo bytes, then apply it all in one commit.
import type { PhotoContent, ServerIdentity, WireItem } from '../protocol/sync-protocol.js';
import { SyncError } from './http-transport.js';
import { adoptServerItem } from './push.js';
import { itemKey, type ReplicaMutation } from './replica-store.js';
import { ServerChanged, type SyncContext } from './sync-context.js';

export interface PullOutcome {
  pulled: number;
  /** Collections whose deletions the mass-deletion guard is holding back. */
  held: Array<{ collection: string; deletes: number; live: number }>;
}

/** Every change after `since`, all pages; throws ServerChanged when the data set is not `expect`. */
export async function fetchChanges(
  ctx: SyncContext,
  since: string | null,
  expect: ServerIdentity | null,
): Promise<{ changes: WireItem[]; cursor: string | null; server: ServerIdentity | null }> {
  const byKey = new Map<string, WireItem>();
  let cursor = since;
  let server: ServerIdentity | null = null;
  for (;;) {
    let res;
    try {
      res = await ctx.transport.changes(cursor);
    } catch (e) {
      if (e instanceof SyncError && e.code === 'cursor_expired') throw new ServerChanged('cursor_expired', null);
      // A cursor "ahead of the server": the server lost data without changing epoch, or it is a
      // different server on the same address. Either way the device's cursor means nothing here.
      if (e instanceof SyncError && e.code === 'bad_cursor' && since !== null) throw new ServerChanged('cursor_rejected', null);
      throw e;
    }
    if (expect && (res.server.id !== expect.id || res.server.epoch !== expect.epoch)) {
      throw new ServerChanged(res.server.id !== expect.id ? 'new_server' : 'new_epoch', res.server);
    }
    server = res.server;
    expect = res.server;
    for (const w of res.changes) byKey.set(itemKey(w.collection, w.id), w);
    cursor = res.cursor;
    ctx.events.emit('progress', { phase: 'pull', done: byKey.size, total: null });
    if (!res.more) break;
  }
  return { changes: [...byKey.values()], cursor, server };
}

/** Downloads the bytes of photos the device does not hold yet. */
export async function fetchPhotoBlobs(ctx: SyncContext, changes: WireItem[]): Promise<void> {
  if (!ctx.fetchBlobs) return;
  let done = 0;
  for (const w of changes) {
    const c = w.content as PhotoContent | undefined;
    if (w.deleted || !c || typeof c !== 'object' || typeof c.blob !== 'string' || !('size' in c)) continue;
    if (await ctx.store.getBlob(c.blob)) continue;
    try {
      await ctx.store.putBlob(c.blob, await ctx.transport.getBlob(c.blob));
    } catch (e) {
      // A blob uploaded by another account is invisible to us; the item is still kept.
      if (!(e instanceof SyncError && e.code === 'not_found')) throw e;
    }
    ctx.events.emit('progress', { phase: 'blobs', done: ++done, total: null });
  }
}

/**
 * The client-side mass-deletion guard: which collections' incoming deletions exceed the share.
 * `deletes` counts only deletions that would remove a live item the device holds.
 */
export function guardDeletions(ctx: SyncContext, tombstones: WireItem[]): Map<string, { deletes: number; live: number }> {
  const deletes = new Map<string, number>();
  for (const w of tombstones) {
    const l = ctx.state.item(w.collection, w.id);
    if (l && !l.deleted && ctx.state.pendingFor(w.collection, w.id).length === 0) deletes.set(w.collection, (deletes.get(w.collection) ?? 0) + 1);
  }
  const live = new Map<string, number>();
  for (const it of ctx.state.items()) if (!it.deleted) live.set(it.collection, (live.get(it.collection) ?? 0) + 1);
  const tripped = new Map<string, { deletes: number; live: number }>();
  for (const [collection, n] of deletes) {
    const l = live.get(collection) ?? 0;
    if (l >= ctx.guard.minItems && n > ctx.guard.share * l) tripped.set(collection, { deletes: n, live: l });
  }
  return tripped;
}

/** Whether a server item is news for the device (not already integrated, no local edit waiting). */
export function isNewer(ctx: SyncContext, w: WireItem, server: ServerIdentity): boolean {
  if (ctx.state.pendingFor(w.collection, w.id).length > 0) return false; // the push will settle it
  const l = ctx.state.item(w.collection, w.id);
  if (!l) return true;
  if (l.serverId === server.id && l.epoch === server.epoch && l.version >= w.version) return false;
  return true;
}

export async function pullChanges(ctx: SyncContext): Promise<PullOutcome> {
  const meta = ctx.state.meta;
  const { changes, cursor, server } = await fetchChanges(ctx, meta.cursor, meta.server);
  if (!server) return { pulled: 0, held: [] };
  await fetchPhotoBlobs(ctx, changes);
  return ctx.state.mutate(() => {
    const fresh = changes.filter((w) => isNewer(ctx, w, server));
    const tripped = guardDeletions(ctx, fresh.filter((w) => w.deleted));
    const mutations: ReplicaMutation[] = [];
    const heldDeletes = { ...ctx.state.meta.heldDeletes };
    let pulled = 0;
    for (const w of fresh) {
      if (w.deleted && tripped.has(w.collection)) {
        heldDeletes[w.collection] = [...(heldDeletes[w.collection] ?? []).filter((h) => h.id !== w.id), w];
        continue;
      }
      mutations.push({ op: 'putItem', item: adoptServerItem(ctx.state.item(w.collection, w.id), w, server) });
      pulled++;
    }
    mutations.push({ op: 'setMeta', meta: { ...ctx.state.meta, server, cursor, heldDeletes } });
    const held = [...tripped].map(([collection, t]) => ({ collection, ...t }));
    return { mutations, result: { pulled, held } };
  });
}
