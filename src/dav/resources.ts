// Resolving a DAV path to the user's collection or item, checked against the authenticated owner.
import { fail } from '../core/errors.js';
import type { Kind } from '../core/kinds.js';
import type { ReadOptions } from '../core/ports/record-store.js';
import type { Collection, StoredItem } from '../core/model.js';
import type { DavRequest } from './dav-request.js';
import { collectionHref, type DavTarget, encodeSegment, extensionOf, itemIdOf } from './dav-paths.js';
import type { PropertyEnv } from './properties.js';
import { clark, document, NS } from './xml.js';

/**
 * The resource name a client chose for an item when it is not `<UID>.vcf`/`.ics` (iOS, Evolution
 * and others pick their own), kept as a DAV property of the item so hrefs stay the client's.
 */
export const NAME_PROP = clark(NS.keepsake, 'resource-name');
/** The reverse entry: a pseudo-resource per chosen name (ids never hold control characters) naming its item. */
const ITEM_PROP = clark(NS.keepsake, 'item-id');
const nameKey = (name: string) => `\u0001${name}`;
const UNSETTLED: ReadOptions = { unsettled: true };

/** Records that the client calls item `id` by `name` (both directions, so lookups by name are one read). */
export async function keepResourceName(req: DavRequest, col: Collection, id: string, name: string): Promise<void> {
  await req.dav.setProperties(req.user, col.id, nameKey(name), { [ITEM_PROP]: id });
  await req.dav.setProperties(req.user, col.id, id, { [NAME_PROP]: name });
}

/** Item hrefs of one collection, honouring names clients chose. */
export class ResourceNames {
  private readonly byId = new Map<string, string>();
  /** Computed once: an initial sync builds ten thousand hrefs. */
  private readonly prefix: string;
  private readonly ext: string;

  constructor(
    private readonly userName: string,
    private readonly col: Collection,
    all: Map<string, Record<string, string>>,
  ) {
    this.prefix = collectionHref(userName, col.id);
    this.ext = extensionOf(col.kind);
    for (const [id, props] of all) {
      const name = props[NAME_PROP];
      if (id !== '' && !id.startsWith('\u0001') && name) {
        this.byId.set(id, name);
      }
    }
  }

  href(id: string): string {
    const name = this.byId.get(id);
    return name === undefined ? this.prefix + encodeSegment(id) + this.ext : this.prefix + encodeSegment(name);
  }
}

export async function resourceNames(req: DavRequest, col: Collection): Promise<ResourceNames> {
  return new ResourceNames(req.user.name, col, await req.dav.allProperties(req.user, col.id));
}

/** Kinds served over DAV: notes and scores have no DAV form. */
export const DAV_KINDS: readonly Kind[] = ['contacts', 'calendar', 'tasks', 'photos'];

/**
 * Refuses a path in another user's space. Invariant 9: no one reads or writes another user's
 * data; the answer is the same whether or not that user exists.
 */
export function checkOwner(req: DavRequest, target: DavTarget = req.target): void {
  if (target.type !== 'root' && target.user !== req.user.name) fail('forbidden', 'this path belongs to another account');
}

/**
 * The live DAV collection a collection or item path names (`options`: see `ReadOptions`; `forWrite`:
 * a PUT's target, see `DavService.collectionForWrite`).
 */
export async function collectionOf(req: DavRequest, target: DavTarget = req.target, options?: ReadOptions, forWrite = false): Promise<Collection> {
  if (target.type !== 'collection' && target.type !== 'item') fail('method_not_allowed', 'this is not a collection');
  checkOwner(req, target);
  const col = forWrite ? await req.dav.collectionForWrite(req.user, target.collection) : await req.dav.collection(req.user, target.collection, options);
  if (!DAV_KINDS.includes(col.kind)) fail('collection_not_found', `collection "${col.id}" (${col.kind}) is not available over DAV`);
  // Only photo collections hold folders; elsewhere a deeper path names nothing.
  if (target.type === 'item' && target.parents.length > 0 && col.kind !== 'photos') fail('not_found', `${col.kind} collections do not nest: paths are /dav/<user>/<collection>/<resource>`);
  return col;
}

/**
 * The item a resource name stands for: `<id><ext>` unless the client named it otherwise (then the
 * name is looked up among the collection's kept names). `id` is where a new resource would go.
 */
export async function itemAt(req: DavRequest, col: Collection, name: string): Promise<{ id: string; item: StoredItem | null }> {
  const id0 = itemIdOf(col.kind, name);
  const direct = await req.dav.item(req.user, col.id, id0);
  if (direct) {
    const own = (await req.dav.properties(req.user, col.id, id0))[NAME_PROP];
    if (own === undefined || own === name) return { id: id0, item: direct };
  }
  const id = (await req.dav.properties(req.user, col.id, nameKey(name)))[ITEM_PROP];
  if (id !== undefined) {
    // Only while the item still calls itself by this name (a later PUT may have renamed it).
    const own = (await req.dav.properties(req.user, col.id, id))[NAME_PROP];
    if (own === name) return { id, item: await req.dav.item(req.user, col.id, id) };
  }
  return { id: id0, item: null };
}

/** The extension a resource name carries when it is a vCard or iCalendar resource. */
function textExtension(name: string): string | null {
  const ext = name.slice(-4).toLowerCase();
  return ext === '.vcf' || ext === '.ics' ? ext : null;
}

/**
 * What a PUT to a vCard/iCalendar resource writes over: the collection, the item id the name
 * stands for, and that item as stored (tombstones included; null when new). The reads are
 * unsettled (they do not wait for other clients' commits to be fsynced, see `ReadOptions`): the
 * PUT's own write is acknowledged only after an fsync that covers everything they saw, and an
 * error is answered only once `settled()` (dav-routes.ts).
 */
export async function resourceForWrite(
  req: DavRequest,
  t: Extract<DavTarget, { type: 'item' }>,
): Promise<{ col: Collection; id: string; current: StoredItem | null }> {
  const ext = textExtension(t.name);
  const guess = ext ? t.name.slice(0, -ext.length) : t.name;
  const col = await collectionOf(req, t, UNSETTLED, true);
  const id0 = itemIdOf(col.kind, t.name);
  if (id0 !== guess) {
    const { id } = await itemAt(req, col, t.name);
    return { col, id, current: await req.dav.storedItem(req.user, col.id, id) };
  }
  // Each read is only made when the answer depends on it (three reads, not four, for any PUT).
  const direct = await req.dav.storedItem(req.user, col.id, id0);
  if (direct && !direct.deleted) {
    const own = (await req.dav.properties(req.user, col.id, id0, UNSETTLED))[NAME_PROP];
    if (own === undefined || own === t.name) return { col, id: id0, current: direct };
  }
  const id = (await req.dav.properties(req.user, col.id, nameKey(t.name), UNSETTLED))[ITEM_PROP];
  if (id !== undefined) {
    // A name the client chose: only while the item still calls itself by it (a later PUT may have renamed it).
    const [item, props] = await Promise.all([req.dav.storedItem(req.user, col.id, id), req.dav.properties(req.user, col.id, id, UNSETTLED)]);
    if (props[NAME_PROP] === t.name && item && !item.deleted) return { col, id, current: item };
  }
  return { col, id: id0, current: direct };
}

export async function propertyEnv(req: DavRequest): Promise<PropertyEnv> {
  const server = await req.dav.identity();
  return {
    userName: req.user.name,
    syncToken: await req.dav.currentToken(req.user),
    epoch: server.epoch,
    maxTextBytes: 1024 * 1024,
  };
}

/** Sends a 207 Multi-Status with the given `<D:response>` elements (and an optional sync-token). */
export function sendMultistatus(req: DavRequest, responses: string[], extra = ''): void {
  req.reply
    .status(207)
    .header('content-type', 'application/xml; charset=utf-8')
    .send(document(NS.dav, 'multistatus', responses.join('') + extra));
}
