// Resolving a DAV path to the user's collection or item, checked against the authenticated owner.
import { fail } from '../core/errors.js';
import type { Kind } from '../core/kinds.js';
import type { Collection, StoredItem } from '../core/model.js';
import type { DavRequest } from './dav-request.js';
import { type DavTarget, itemIdOf } from './dav-paths.js';
import type { PropertyEnv } from './properties.js';
import { document, NS } from './xml.js';

/** Kinds served over DAV: notes and scores have no DAV form. */
export const DAV_KINDS: readonly Kind[] = ['contacts', 'calendar', 'tasks', 'photos'];

/**
 * Refuses a path in another user's space. Invariant 9: no one reads or writes another user's
 * data; the answer is the same whether or not that user exists.
 */
export function checkOwner(req: DavRequest, target: DavTarget = req.target): void {
  if (target.type !== 'root' && target.user !== req.user.name) fail('forbidden', 'this path belongs to another account');
}

/** The live DAV collection a collection or item path names. */
export async function collectionOf(req: DavRequest, target: DavTarget = req.target): Promise<Collection> {
  if (target.type !== 'collection' && target.type !== 'item') fail('method_not_allowed', 'this is not a collection');
  checkOwner(req, target);
  const col = await req.dav.collection(req.user, target.collection);
  if (!DAV_KINDS.includes(col.kind)) fail('collection_not_found', `collection "${col.id}" (${col.kind}) is not available over DAV`);
  return col;
}

/** The live item an item path names, or null. */
export async function itemAt(req: DavRequest, col: Collection, name: string): Promise<{ id: string; item: StoredItem | null }> {
  const id = itemIdOf(col.kind, name);
  return { id, item: await req.dav.item(req.user, col.id, id) };
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
