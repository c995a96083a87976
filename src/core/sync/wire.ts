// Conversions from stored rows to the wire types of the sync protocol.
import type { WireCollection, WireItem, WireRevision } from '../../protocol/sync-protocol.js';
import { decodeContent } from '../content/validate-content.js';
import type { Collection, Kind, Revision, StoredItem } from '../model.js';

/** The wire form of an item; `withContent: false` leaves out the content (the device sent it). */
export function wireItem(item: StoredItem, kind: Kind, withContent = true): WireItem {
  const w: WireItem = {
    collection: item.collection,
    id: item.id,
    version: item.version,
    hash: item.hash,
    modified: item.modified,
    deleted: item.deleted,
  };
  if (withContent && item.content !== null) w.content = decodeContent(kind, item.content) as WireItem['content'];
  return w;
}

export function wireRevision(rev: Revision, kind: Kind): WireRevision {
  const w: WireRevision = { ...wireItem(rev, kind), reason: rev.reason, keptAt: rev.keptAt };
  return w;
}

export function wireCollection(c: Collection): WireCollection {
  return { id: c.id, kind: c.kind, name: c.name, count: c.count, digest: c.digest };
}
